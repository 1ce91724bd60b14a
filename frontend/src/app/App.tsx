import { AdminPage } from './admin/AdminPage.tsx';
import { AdminUserDayPage } from './admin/AdminUserDayPage.tsx';
import { AdminUserPage } from './admin/AdminUserPage.tsx';
import { CrashScreen } from './components/CrashScreen.tsx';
import { Header } from './components/Header.tsx';
import { PageHeading } from './components/PageHeading.tsx';
import { ErrorState, LoadingState } from './components/StatusViews.tsx';
import { I18nProvider, useI18n } from './i18n/i18n.tsx';
import { DailyReportPage } from './pages/DailyReportPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { ReportsHomePage } from './pages/ReportsHomePage.tsx';
import { SessionExpiredPage } from './pages/SessionExpiredPage.tsx';
import { SignedOutPage } from './pages/SignedOutPage.tsx';
import { parseRoute, type Route } from './router/routes.ts';
import { Link, useLocation } from './router/router.tsx';
import { isAdministrator, SessionProvider, useSession } from './session/session.tsx';
import type { Me } from './api/types.ts';

export function App() {
  return (
    <CrashScreen>
      <I18nProvider>
        <SessionProvider>
          <Shell />
        </SessionProvider>
      </I18nProvider>
    </CrashScreen>
  );
}

function Shell() {
  const { t } = useI18n();
  return (
    <>
      <a className="skip-link" href="#main">
        {t.skipToContent}
      </a>
      <Header />
      <Content />
    </>
  );
}

/** Which screen: the session decides first (nobody sees a report page without one), then the path. */
function Content() {
  const { t } = useI18n();
  const session = useSession();
  const location = useLocation();
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
      return <SignedInPage route={parseRoute(location.pathname)} me={session.state.me} />;
  }
}

function SignedInPage({ route, me }: { route: Route; me: Me }) {
  const { t } = useI18n();
  const isAdminRoute = route.name === 'admin' || route.name === 'adminUser' || route.name === 'adminUserDay';
  if (isAdminRoute && !isAdministrator(me)) {
    return (
      <main id="main" className="page page--narrow" data-testid="admin-only">
        <PageHeading>{t.forbiddenTitle}</PageHeading>
        <p>{t.adminOnlyLead}</p>
        <Link className="button" href="/">
          {t.backToReports}
        </Link>
      </main>
    );
  }
  switch (route.name) {
    case 'home':
      return <ReportsHomePage />;
    case 'day':
      return <DailyReportPage key={route.date} date={route.date} />;
    case 'admin':
      return <AdminPage />;
    case 'adminUser':
      return <AdminUserPage key={route.user} user={route.user} />;
    case 'adminUserDay':
      return <AdminUserDayPage key={`${route.user}/${route.date}`} user={route.user} date={route.date} />;
    case 'notFound':
      return <NotFoundPage />;
  }
}
