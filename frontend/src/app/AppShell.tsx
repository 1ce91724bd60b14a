import { Outlet } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { SessionExpiredPage } from '../session/SessionExpiredPage.tsx';
import { SignedOutPage } from '../session/SignedOutPage.tsx';
import { useSession } from '../session/session.tsx';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { Header } from './Header.tsx';

/** Every page's frame: skip link, header, then the page — once the session says who is here. */
export function AppShell() {
  const { t } = useI18n();
  return (
    <>
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <Header />
      <SessionGate />
    </>
  );
}

/** The session decides first (nobody sees a report page without one), then the route. */
function SessionGate() {
  const { t } = useI18n();
  const session = useSession();
  switch (session.state.status) {
    case 'checking':
      return (
        <main id="main" className="page page--narrow">
          <LoadingState label={t.checkingSession} />
        </main>
      );
    case 'unavailable':
      return (
        <main id="main" className="page page--narrow" data-testid="session-unavailable">
          <ErrorState error={session.state.error} onRetry={session.recheck} />
        </main>
      );
    case 'signed-out':
      return <SignedOutPage />;
    case 'expired':
      return <SessionExpiredPage />;
    case 'signed-in':
      return <Outlet />;
  }
}
