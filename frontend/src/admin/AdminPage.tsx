import { useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { InvalidateButton } from './InvalidateButton.tsx';
import { isUsername } from './username.ts';

/** Administrators: find a person by username, open their reports; drop every cached report. */
export function AdminPage() {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [invalid, setInvalid] = useState(false);
  const navigate = useNavigate();

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const value = username.trim();
    if (!isUsername(value)) {
      setInvalid(true);
      return;
    }
    void navigate({ to: '/admin/users/$user', params: { user: value } });
  };

  return (
    <main id="main" className="page page--narrow">
      <PageHeading>{t.adminTitle}</PageHeading>
      <p className="muted">{t.adminLead}</p>

      <section className="section card" aria-labelledby="find-title">
        <h2 id="find-title">{t.findUser}</h2>
        <form className="form" onSubmit={onSubmit} noValidate role="search">
          <label htmlFor="admin-username">{t.usernameLabel}</label>
          <div className="form__row">
            <input
              id="admin-username"
              name="username"
              type="text"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(event) => {
                setUsername(event.target.value);
                setInvalid(false);
              }}
              aria-describedby={invalid ? 'admin-username-error' : 'admin-username-hint'}
              aria-invalid={invalid || undefined}
              data-testid="admin-username"
            />
            <button type="submit" className="button" data-testid="admin-open">
              {t.openReports}
            </button>
          </div>
          {invalid ? (
            <p id="admin-username-error" className="field-error" role="alert">
              {t.usernameInvalid}
            </p>
          ) : (
            <p id="admin-username-hint" className="muted small">
              {t.usernameHint}
            </p>
          )}
        </form>
      </section>

      <section className="section card" aria-labelledby="cache-title">
        <h2 id="cache-title">{t.cacheTitle}</h2>
        <InvalidateButton scope={{ all: true }} label={t.invalidateAll} confirmText={t.invalidateAllConfirm} />
      </section>
    </main>
  );
}
