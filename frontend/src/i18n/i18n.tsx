import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { dictionaries, pickLanguage, plural, type Language, type Messages, type PluralForms } from './dictionary.ts';
import { createFormatters, type Formatters } from './format.ts';

/** Only the UI language is remembered in the browser; nothing about the person or the session. */
const STORAGE_KEY = 'bionicpro.language';

export interface I18n {
  language: Language;
  t: Messages;
  format: Formatters;
  plural(forms: PluralForms, n: number): string;
  setLanguage(language: Language): void;
}

const I18nContext = createContext<I18n | null>(null);

function readStoredLanguage(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: fall back to the browser's languages
  }
}

export function initialLanguage(): Language {
  return pickLanguage(readStoredLanguage(), navigator.languages?.length ? navigator.languages : [navigator.language]);
}

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Language }) {
  const [language, setLanguageState] = useState<Language>(() => initial ?? initialLanguage());

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      /* not remembered; the choice still applies to this page */
    }
  }, []);

  const value = useMemo<I18n>(() => {
    const format = createFormatters(language);
    return {
      language,
      t: dictionaries[language],
      format,
      plural: (forms, n) => plural(language, forms, n, format.integer(n)),
      setLanguage,
    };
  }, [language, setLanguage]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside <I18nProvider>');
  return value;
}
