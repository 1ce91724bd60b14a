import { describe, expect, test } from 'bun:test';
import { isReportDay, loginHref, parseRoute, returnToFor, routePath, type Route } from './routes.ts';

describe('app routes', () => {
  test('every page parses from its own path', () => {
    const routes: Route[] = [
      { name: 'home' },
      { name: 'day', date: '2026-11-24' },
      { name: 'admin' },
      { name: 'adminUser', user: 'ivan.petrov' },
      { name: 'adminUser', user: 'someone@example.org' },
      { name: 'adminUserDay', user: 'lena.schmidt', date: '2024-02-29' },
    ];
    for (const route of routes) expect(parseRoute(routePath(route))).toEqual(route);
  });

  test('a trailing slash is the same page', () => {
    expect(parseRoute('/reports/2026-11-24/')).toEqual({ name: 'day', date: '2026-11-24' });
    expect(parseRoute('/admin/')).toEqual({ name: 'admin' });
  });

  test('impossible days, bad usernames and unknown paths are "not found", never a half-parsed page', () => {
    for (const path of [
      '/reports/2026-02-30',
      '/reports/2026-13-01',
      '/reports/26-11-24',
      '/reports/2026-11-24/extra',
      '/reports',
      '/admin/users/..',
      '/admin/users/%2e%2e%2fetc',
      '/admin/users/bad%ZZ',
      '/admin/users/ivan.petrov/reports/2026-11-31',
      '/admin/users/ivan.petrov/sessions',
      '/nothing',
    ]) {
      expect(parseRoute(path)).toEqual({ name: 'notFound', path });
    }
  });

  test('isReportDay accepts real calendar days only', () => {
    expect(isReportDay('2024-02-29')).toBe(true);
    expect(isReportDay('2023-02-29')).toBe(false);
    expect(isReportDay('2026-11-24T00:00')).toBe(false);
  });

  test('returnTo keeps the page and its query, but not a login error', () => {
    expect(returnToFor({ pathname: '/reports/2026-11-24', search: '' })).toBe('/reports/2026-11-24');
    expect(returnToFor({ pathname: '/', search: '?error=state_mismatch' })).toBe('/');
    expect(returnToFor({ pathname: '/admin', search: '?error=x&tab=cache' })).toBe('/admin?tab=cache');
  });

  test('the sign-in link carries the return path to the BFF, encoded', () => {
    expect(loginHref('/')).toBe('/auth/login');
    expect(loginHref('/reports/2026-11-24')).toBe('/auth/login?returnTo=%2Freports%2F2026-11-24');
    expect(loginHref('/admin?tab=a&b=c')).toBe('/auth/login?returnTo=%2Fadmin%3Ftab%3Da%26b%3Dc');
  });
});
