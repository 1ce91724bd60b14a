import { describe, expect, test } from 'bun:test';
import { createMemoryHistory } from '@tanstack/react-router';
import { createAppRouter } from './router.tsx';

/**
 * The route tree as data: which page a path opens, with which parameters. Under Bun the router
 * runs its server-side loader (there is no DOM), which resolves the same matches, runs the same
 * beforeLoad checks and marks a not-found the same way; the browser tests cover rendering.
 */

const PAGES = new Set(['/', '/reports/$date', '/admin/', '/admin/users/$user/', '/admin/users/$user/reports/$date', '/operator/', '/operator/customers/$customerId', '/operator/orders/$orderId']);

async function pageAt(path: string): Promise<{ page: string; params: Record<string, string> } | 'not found'> {
  const router = createAppRouter(createMemoryHistory({ initialEntries: [path] }));
  await router.load();
  const matches = router.state.matches;
  const leaf = matches.at(-1);
  if (!leaf || !PAGES.has(leaf.routeId) || matches.some((match) => match.status !== 'success' || match.error !== undefined)) return 'not found';
  return { page: leaf.routeId, params: leaf.params as Record<string, string> };
}

describe('app routes', () => {
  test('every page opens from its own path, with its parameters decoded', async () => {
    expect(await pageAt('/')).toEqual({ page: '/', params: {} });
    expect(await pageAt('/reports/2026-11-24')).toEqual({ page: '/reports/$date', params: { date: '2026-11-24' } });
    expect(await pageAt('/admin')).toEqual({ page: '/admin/', params: {} });
    expect(await pageAt('/admin/users/ivan.petrov')).toEqual({ page: '/admin/users/$user/', params: { user: 'ivan.petrov' } });
    expect(await pageAt('/admin/users/someone%40example.org')).toEqual({ page: '/admin/users/$user/', params: { user: 'someone@example.org' } });
    expect(await pageAt('/admin/users/lena.schmidt/reports/2024-02-29')).toEqual({ page: '/admin/users/$user/reports/$date', params: { user: 'lena.schmidt', date: '2024-02-29' } });
  });

  test('the operator pages: search (query kept as typed), a customer, an order; ids must be UUIDs', async () => {
    const id = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    expect(await pageAt('/operator')).toEqual({ page: '/operator/', params: {} });
    expect(await pageAt(`/operator/customers/${id}`)).toEqual({ page: '/operator/customers/$customerId', params: { customerId: id } });
    expect(await pageAt(`/operator/orders/${id}`)).toEqual({ page: '/operator/orders/$orderId', params: { orderId: id } });
    for (const path of ['/operator/customers/ivan.petrov', '/operator/orders/1', `/operator/customers/${id}/x`, '/operator/prostheses']) {
      expect({ path, page: await pageAt(path) }).toEqual({ path, page: 'not found' });
    }
    const router = createAppRouter(createMemoryHistory({ initialEntries: ['/operator?q=007'] }));
    await router.load();
    expect(router.state.location.search).toEqual({ q: '007' });
    expect(router.buildLocation({ to: '/operator', search: { q: 'Петров 1' } }).href).toBe('/operator?q=%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2+1');
  });

  test('links build the same paths the pages parse', () => {
    const router = createAppRouter(createMemoryHistory({ initialEntries: ['/'] }));
    expect(router.buildLocation({ to: '/reports/$date', params: { date: '2026-11-24' } }).href).toBe('/reports/2026-11-24');
    expect(router.buildLocation({ to: '/admin/users/$user', params: { user: 'someone@example.org' } }).href).toBe('/admin/users/someone%40example.org');
    expect(router.buildLocation({ to: '/admin/users/$user/reports/$date', params: { user: 'a b', date: '2024-02-29' } }).href).toBe('/admin/users/a%20b/reports/2024-02-29');
  });

  test('impossible days, bad usernames and unknown paths are "not found", never a half-parsed page', async () => {
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
      expect({ path, page: await pageAt(path) }).toEqual({ path, page: 'not found' });
    }
  });

  test('query strings stay plain strings (no JSON in the address bar)', async () => {
    const router = createAppRouter(createMemoryHistory({ initialEntries: ['/admin?q=007&n=12'] }));
    await router.load();
    expect(router.state.location.search as Record<string, unknown>).toEqual({ q: '007', n: '12' });
    expect(router.buildLocation({ to: '/admin', search: { q: '12' } } as never).href).toBe('/admin?q=12');
  });
});
