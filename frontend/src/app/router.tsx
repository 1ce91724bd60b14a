import {
  createBrowserHistory,
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  type ErrorComponentProps,
  notFound,
  type RouterHistory,
} from '@tanstack/react-router';
import { AdminArea } from '../admin/AdminArea.tsx';
import { isUsername } from '../admin/username.ts';
import { isRecordId } from '../crm/record-id.ts';
import { OperatorArea } from '../crm/OperatorArea.tsx';
import { DailyReportPage } from '../reports/DailyReportPage.tsx';
import { isReportDay } from '../reports/report-day.ts';
import { ReportsHomePage } from '../reports/ReportsHomePage.tsx';
import { markInAppNavigation } from '../ui/in-app-navigation.ts';
import { AppShell } from './AppShell.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { parseSearch, stringifySearch } from './search-params.ts';

/**
 * The app's pages. Paths are real history paths (not hashes) so that the BFF's `returnTo` — a
 * same-origin path — brings a person back to exactly the page they were on. A path parameter
 * that is not a real day or a valid username is "not found", never a half-parsed page. Routes
 * fetch nothing themselves: pages read through TanStack Query once the session gate (in
 * AppShell) lets them render, so a signed-out visitor triggers no API call.
 */

const rootRoute = createRootRoute({ component: AppShell, notFoundComponent: NotFoundPage });

const requireReportDay = ({ params }: { params: { date: string } }) => {
  if (!isReportDay(params.date)) throw notFound();
};

const homeRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: ReportsHomePage });

const dayRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reports/$date',
  beforeLoad: requireReportDay,
  component: function DayRoute() {
    const { date } = dayRoute.useParams();
    // A new day is a new page: its heading takes focus and its state starts afresh.
    return <DailyReportPage key={date} date={date} />;
  },
});

/** Everything under /admin shares one layout that closes it to non-administrators. */
const adminRoute = createRoute({ getParentRoute: () => rootRoute, path: '/admin', component: AdminArea });

// The pages themselves are a chunk of their own (admin/admin-pages.tsx), fetched the first time
// an /admin page is opened: a prosthesis owner's phone, which never opens one, never downloads it.
const adminPage = (name: 'AdminHomeRoute' | 'AdminPersonRoute' | 'AdminPersonDayRoute') => lazyRouteComponent(() => import('../admin/admin-pages.tsx'), name);
/** A new person or day is a new page: its heading takes focus and its state starts afresh. */
const remountOnParams = ({ params }: { params: unknown }) => params;

const adminHomeRoute = createRoute({ getParentRoute: () => adminRoute, path: '/', component: adminPage('AdminHomeRoute') });

const adminPersonRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: '/users/$user',
  beforeLoad: ({ params }) => {
    if (!isUsername(params.user)) throw notFound();
  },
});

const adminPersonHomeRoute = createRoute({
  getParentRoute: () => adminPersonRoute,
  path: '/',
  remountDeps: remountOnParams,
  component: adminPage('AdminPersonRoute'),
});

const adminPersonDayRoute = createRoute({
  getParentRoute: () => adminPersonRoute,
  path: '/reports/$date',
  beforeLoad: requireReportDay,
  remountDeps: remountOnParams,
  component: adminPage('AdminPersonDayRoute'),
});

/** Everything under /operator: the CRM operator's pages, closed to everyone else, in their own chunk. */
const operatorRoute = createRoute({ getParentRoute: () => rootRoute, path: '/operator', component: OperatorArea });
const operatorPage = (name: 'OperatorSearchRoute' | 'OperatorCustomerRoute' | 'OperatorOrderRoute') => lazyRouteComponent(() => import('../crm/crm-pages.tsx'), name);
const requireRecordId = (id: string) => {
  if (!isRecordId(id)) throw notFound();
};

const operatorSearchRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/',
  validateSearch: (search: Record<string, unknown>): { q?: string } => (typeof search.q === 'string' && search.q !== '' ? { q: search.q.slice(0, 200) } : {}),
  component: operatorPage('OperatorSearchRoute'),
});

const operatorCustomerRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/customers/$customerId',
  beforeLoad: ({ params }: { params: { customerId: string } }) => requireRecordId(params.customerId),
  remountDeps: remountOnParams,
  component: operatorPage('OperatorCustomerRoute'),
});

const operatorOrderRoute = createRoute({
  getParentRoute: () => operatorRoute,
  path: '/orders/$orderId',
  beforeLoad: ({ params }: { params: { orderId: string } }) => requireRecordId(params.orderId),
  remountDeps: remountOnParams,
  component: operatorPage('OperatorOrderRoute'),
});

export const routeTree = rootRoute.addChildren([
  homeRoute,
  dayRoute,
  adminRoute.addChildren([adminHomeRoute, adminPersonRoute.addChildren([adminPersonHomeRoute, adminPersonDayRoute])]),
  operatorRoute.addChildren([operatorSearchRoute, operatorCustomerRoute, operatorOrderRoute]),
]);

/** A rendering error is the app's, not one page's: CrashScreen (outside the router) takes it. */
function RethrowToCrashScreen({ error }: ErrorComponentProps): never {
  throw error;
}

export function createAppRouter(history: RouterHistory = createBrowserHistory()) {
  const router = createRouter({
    routeTree,
    history,
    trailingSlash: 'never',
    parseSearch,
    stringifySearch,
    defaultNotFoundComponent: NotFoundPage,
    defaultErrorComponent: RethrowToCrashScreen,
  });
  router.subscribe('onBeforeNavigate', (event) => {
    if (event.fromLocation) markInAppNavigation();
  });
  return router;
}

export type AppRouter = ReturnType<typeof createAppRouter>;

declare module '@tanstack/react-router' {
  interface Register {
    router: AppRouter;
  }
}
