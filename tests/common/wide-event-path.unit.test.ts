import { describe, expect, test } from 'bun:test';
import { createServiceApp } from '../../common/http/service-app.ts';
import { loggedPath } from '../../common/http/wide-event.ts';
import { createMemoryLogger } from '../../common/log.ts';

describe('the logged request path names nobody', () => {
  test('the username an administrator looks up is logged as {user}; other paths as they are', () => {
    expect(loggedPath('/api/admin/users/ivan.petrov/reports/2026-11-24')).toBe('/api/admin/users/{user}/reports/2026-11-24');
    expect(loggedPath('/auth/admin/users/ivan.petrov/sessions')).toBe('/auth/admin/users/{user}/sessions');
    expect(loggedPath('/admin/users/j%C3%B6rg')).toBe('/admin/users/{user}');
    expect(loggedPath('/api/reports/2026-11-24')).toBe('/api/reports/2026-11-24');
  });

  test("a request's wide event carries the redacted path", async () => {
    const logger = createMemoryLogger();
    const app = createServiceApp({ logger, trustIncomingRequestId: false });
    app.get('/api/admin/users/:user/reports', (c) => c.json({ ok: true }));
    expect((await app.request('/api/admin/users/ivan.petrov/reports?limit=5')).status).toBe(200);
    const line = logger.lines.find((l) => l.event === 'http.request');
    expect(line).toMatchObject({ path: '/api/admin/users/{user}/reports', status: 200 });
    expect(JSON.stringify(logger.lines)).not.toContain('ivan.petrov');
  });
});
