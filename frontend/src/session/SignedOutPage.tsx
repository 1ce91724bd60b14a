import { useI18n } from '../i18n/i18n.tsx';
import { useCurrentPage } from './current-page.ts';
import { loginHref, returnToFor } from './sign-in-link.ts';

/**
 * The landing page for anyone not signed in. "Sign in" is a plain link to the BFF, which starts
 * the Keycloak login; it carries the current page so a deep link survives the round trip.
 */
export function SignedOutPage() {
  const { t } = useI18n();
  const location = useCurrentPage();
  const loginError = new URLSearchParams(location.search).get('error');
  return (
    <main id="main" className="landing">
      <section className="landing__hero" aria-labelledby="landing-title">
        <h1 id="landing-title" className="landing__title">
          {t.signedOutTitle}
        </h1>
        <p className="landing__lead">{t.signedOutLead}</p>
        {loginError ? (
          <p className="banner banner--error" role="alert" data-testid="login-error">
            {loginError === 'access_denied' ? t.loginCancelled : t.loginError(loginError.slice(0, 40))}
          </p>
        ) : null}
        <a className="button button--large" href={loginHref(returnToFor(location))} data-testid="sign-in">
          {t.signIn}
        </a>
        <p className="muted small">{t.signInHint}</p>
      </section>
      <ul className="landing__points">
        {t.signedOutPoints.map((point) => (
          <li key={point}>{point}</li>
        ))}
      </ul>
    </main>
  );
}
