/**
 * The app's pages as data. Paths are real history paths (not hashes) so that the BFF's
 * `returnTo` — a same-origin path — brings a person back to exactly the page they were on.
 */
export type Route =
  | { name: 'home' }
  | { name: 'day'; date: string }
  | { name: 'admin' }
  | { name: 'adminUser'; user: string }
  | { name: 'adminUserDay'; user: string; date: string }
  | { name: 'notFound'; path: string };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The same username rule core and the BFF apply. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export function isReportDay(value: string): boolean {
  if (!DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export function isUsername(value: string): boolean {
  return USERNAME.test(value);
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string): Route {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const parts = trimmed.split('/').slice(1).map(decode);
  if (parts.some((part) => part === undefined)) return { name: 'notFound', path: pathname };
  const [a, b, c, d, e] = parts as string[];
  if (trimmed === '/' || trimmed === '') return { name: 'home' };
  if (a === 'reports' && b !== undefined && c === undefined && isReportDay(b)) return { name: 'day', date: b };
  if (a === 'admin' && b === undefined) return { name: 'admin' };
  if (a === 'admin' && b === 'users' && c !== undefined && isUsername(c)) {
    if (d === undefined) return { name: 'adminUser', user: c };
    if (d === 'reports' && e !== undefined && parts.length === 5 && isReportDay(e)) return { name: 'adminUserDay', user: c, date: e };
  }
  return { name: 'notFound', path: pathname };
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'home':
      return '/';
    case 'day':
      return `/reports/${route.date}`;
    case 'admin':
      return '/admin';
    case 'adminUser':
      return `/admin/users/${encodeURIComponent(route.user)}`;
    case 'adminUserDay':
      return `/admin/users/${encodeURIComponent(route.user)}/reports/${route.date}`;
    case 'notFound':
      return route.path;
  }
}

/** Where the BFF should bring a person back to after signing in: this page, never the login error. */
export function returnToFor(location: { pathname: string; search: string }): string {
  const params = new URLSearchParams(location.search);
  params.delete('error');
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ''}`;
}

export function loginHref(returnTo: string): string {
  return returnTo === '/' ? '/auth/login' : `/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}
