import { getRouteApi } from '@tanstack/react-router';
import { AdminPage } from './AdminPage.tsx';
import { AdminUserDayPage } from './AdminUserDayPage.tsx';
import { AdminUserPage } from './AdminUserPage.tsx';

/**
 * The administrator's pages as the router loads them: one chunk of their own, fetched the first
 * time an `/admin…` page is opened, so a prosthesis owner's phone never downloads them. Parameters
 * come through the route's typed API (by route id, without importing the route tree).
 */

const personRoute = getRouteApi('/admin/users/$user/');
const personDayRoute = getRouteApi('/admin/users/$user/reports/$date');

export function AdminHomeRoute() {
  return <AdminPage />;
}

export function AdminPersonRoute() {
  const { user } = personRoute.useParams();
  return <AdminUserPage user={user} />;
}

export function AdminPersonDayRoute() {
  const { user, date } = personDayRoute.useParams();
  return <AdminUserDayPage user={user} date={date} />;
}
