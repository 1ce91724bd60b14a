import { dictionaries, LANGUAGES } from '../i18n/dictionary.ts';
import { useI18n } from '../i18n/i18n.tsx';

/** Two buttons, each named in its own language, the current one marked with aria-pressed. */
export function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <div className="language-switch" role="group" aria-label={t.languageLabel}>
      {LANGUAGES.map((code) => (
        <button
          key={code}
          type="button"
          lang={code}
          className="language-switch__option"
          aria-pressed={code === language}
          onClick={() => setLanguage(code)}
          title={dictionaries[code].languageName}
        >
          {code.toUpperCase()}
          <span className="visually-hidden"> ({dictionaries[code].languageName})</span>
        </button>
      ))}
    </div>
  );
}
