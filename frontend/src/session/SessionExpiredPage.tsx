import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { useCurrentPage } from './current-page.ts';
import { loginHref, returnToFor } from './sign-in-link.ts';

/** Shown instead of any page once the session has ended; signing in again returns here. */
export function SessionExpiredPage() {
  const { t } = useI18n();
  const location = useCurrentPage();
  const action = useRef<HTMLAnchorElement>(null);
  useEffect(() => action.current?.focus(), []);
  return (
    <main id="main" className="page page--narrow">
      <section className="state state--expired" role="alert" aria-labelledby="expired-title" data-testid="session-expired">
        <h1 id="expired-title" className="page-title">
          {t.sessionExpiredTitle}
        </h1>
        <p>{t.sessionExpiredLead}</p>
        <a ref={action} className="button button--large" href={loginHref(returnToFor(location))} data-testid="sign-in-again">
          {t.signInAgain}
        </a>
      </section>
    </main>
  );
}
