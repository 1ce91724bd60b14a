import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { verifyReportUrl } from '../../common/cdn/signing.ts';
import { createCoreHarness, createMartSeeder, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

// Real ClickHouse (mart), S3 (s3rver), Keycloak (tokens from real logins) through app.request().
let core: CoreHarness;
let seeder: ReturnType<typeof createMartSeeder>;
let alice: TestPerson;
let bob: TestPerson;
let admin: TestPerson;
let plainUser: TestPerson;
// Report owner refs (core/reports/owners.ts): what the mart, S3 keys and bodies carry instead of usernames.
let aliceRef: string;
let bobRef: string;

const PROSTHESIS_B = '3c2d4e5f-0000-4000-8000-0000000000b0';

beforeAll(async () => {
  core = createCoreHarness();
  seeder = createMartSeeder(core.env);
  [alice, bob, admin, plainUser] = await Promise.all([
    createTestPerson(core.env, ['prothetic_user'], 'alice'),
    createTestPerson(core.env, ['prothetic_user'], 'bob'),
    createTestPerson(core.env, ['administrator'], 'admin'),
    createTestPerson(core.env, ['user'], 'plain'),
  ]);
  [aliceRef, bobRef] = await Promise.all([core.deps.owners.refOf(alice.uid), core.deps.owners.refOf(bob.uid)]);
  await seeder.insert([
    // 2026-11-20 10:00 loaded twice (an ETL re-run): only _version 2 may count.
    { user_id: aliceRef, hour: '2026-11-20 10:00:00', movements: 100, successful_movements: 90, _version: 1 },
    { user_id: aliceRef, hour: '2026-11-20 10:00:00', movements: 200, successful_movements: 150, errors_total: 3, error_codes: ['E_GRIP', 'E_TEMP'], error_counts: [2, 1], _version: 2 },
    { user_id: aliceRef, hour: '2026-11-20 13:00:00', movements: 50, successful_movements: 50, battery_min_pct: 20, errors_total: 1, error_codes: ['E_GRIP'], error_counts: [1] },
    { user_id: aliceRef, hour: '2026-11-21 01:00:00', movements: 10, successful_movements: 9 },
    // Inconsistent input (successful > movements) must not produce more than 100 %.
    { user_id: aliceRef, hour: '2026-11-23 08:00:00', movements: 10, successful_movements: 12 },
    { user_id: bobRef, hour: '2026-11-20 09:00:00', prosthesis_id: PROSTHESIS_B, chip_id: 'CHIP-BOB', model_name: 'BionicLeg L1', movements: 7, successful_movements: 7 },
  ]);
}, 120_000);

afterAll(async () => {
  for (const ref of [aliceRef, bobRef]) if (ref) await core.deps.reportStore.deletePrefix(`${ref}/`).catch(() => undefined);
  await seeder?.cleanup();
  await Promise.all([alice, bob, admin, plainUser].filter(Boolean).map((p) => p.remove().catch((error) => console.warn('cleanup', error))));
  await core?.close();
});

async function getJson(path: string, token?: string) {
  const response = await core.request(path, { token });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

describe('reports.happy', () => {
  test('list: report days newest first, per-day totals from the deduplicated mart', async () => {
    const { status, body } = await getJson('/api/reports', await alice.accessToken());
    expect(status).toBe(200);
    expect(body.user_id).toBe(aliceRef);
    expect(body.total_days).toBe(3);
    expect(body.days.map((d: { date: string }) => d.date)).toEqual(['2026-11-23', '2026-11-21', '2026-11-20']);
    const day20 = body.days[2];
    expect(day20).toMatchObject({ movements: 250, successful_movements: 200, success_rate_pct: 80, errors: 4, events: 20 });
    expect(body.days[0].success_rate_pct).toBe(100);
    expect(body).toMatchObject({ limit: 30, offset: 0 });
  });

  test('list paging', async () => {
    const { body } = await getJson('/api/reports?limit=1&offset=1', await alice.accessToken());
    expect(body.days.map((d: { date: string }) => d.date)).toEqual(['2026-11-21']);
    expect(body.total_days).toBe(3);
  });

  test('daily: totals and exactly 24 hourly points', async () => {
    const { status, body } = await getJson('/api/reports/2026-11-20', await alice.accessToken());
    expect(status).toBe(200);
    expect(body.hours).toHaveLength(24);
    expect(body.hours[0].hour).toBe('2026-11-20T00:00:00Z');
    expect(body.hours[23].hour).toBe('2026-11-20T23:00:00Z');
    expect(body.hours[10]).toMatchObject({ movements: 200, successful_movements: 150, success_rate_pct: 75, errors: 3, avg_response_time_ms: 150 });
    expect(body.hours[13]).toMatchObject({ movements: 50, success_rate_pct: 100, min_battery_pct: 20 });
    expect(body.hours[11]).toMatchObject({ movements: 0, events: 0, success_rate_pct: null });
    expect(body.totals).toMatchObject({ movements: 250, successful_movements: 200, success_rate_pct: 80, min_battery_pct: 20, max_response_time_ms: 300 });
    expect(body.errors_by_code).toEqual({ E_GRIP: 3, E_TEMP: 1 });
    expect(body.prostheses).toEqual([{ prosthesis_id: '3c2d4e5f-0000-4000-8000-000000000001', chip_id: 'CHIP-TEST', model_name: 'BionicHand X2' }]);
    for (const hour of body.hours) if (hour.success_rate_pct !== null) expect(hour.success_rate_pct).toBeLessThanOrEqual(100);
  });

  test('summary over all days', async () => {
    const { status, body } = await getJson('/api/reports/summary', await alice.accessToken());
    expect(status).toBe(200);
    expect(body).toMatchObject({
      user_id: aliceRef,
      active_days: 3,
      first_activity_at: '2026-11-20T10:00:00Z',
      last_activity_at: '2026-11-23T08:00:00Z',
      movements: 270,
      successful_movements: 219,
      errors: 4,
      prosthesis_model: 'BionicHand X2',
    });
    expect(body.success_rate_pct).toBeCloseTo((219 / 270) * 100, 1);
    expect(body.errors_per_active_day).toBeCloseTo(4 / 3, 2);
  });

  test('CDN routes: miss computes and stores the object, then hits; the URL is signed and short-lived', async () => {
    const token = await alice.accessToken();
    const first = await getJson('/api/reports/cdn/2026-11-21', token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ key: `${aliceRef}/daily/2026-11-21/report.json`, cache: 'miss' });
    expect(first.headers.get('cache-control')).toBe('no-store');
    const second = await getJson('/api/reports/cdn/2026-11-21', token);
    expect(second.body.cache).toBe('hit');
    const url = new URL(second.body.url);
    expect(url.origin + url.pathname).toBe(`${core.config.CDN_URL}/reports/${aliceRef}/daily/2026-11-21/report.json`);
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(await verifyReportUrl(url, core.config.CDN_SIGNING_KEY, nowSeconds)).toEqual({ ok: true, key: second.body.key });
    expect(Number(url.searchParams.get('exp')) - nowSeconds).toBeLessThanOrEqual(core.config.CDN_URL_TTL_SECONDS);
    // The stored object is the same document the JSON route answers.
    const stored = JSON.parse((await core.deps.reportStore.read(second.body.key))!);
    const direct = (await getJson('/api/reports/2026-11-21', token)).body;
    expect({ ...stored, generated_at: 0 }).toEqual({ ...direct, generated_at: 0 });
    expect(stored.hours).toHaveLength(24);

    for (const [path, key] of [
      ['/api/reports/cdn/list', `${aliceRef}/list/reports.json`],
      ['/api/reports/cdn/summary', `${aliceRef}/summary/summary.json`],
    ] as const) {
      const { status, body } = await getJson(path, token);
      expect(status).toBe(200);
      expect(body.key).toBe(key);
      expect(await core.deps.reportStore.exists(key)).toBe(true);
    }
  });

  test('S3 keys and stored bodies name the owner by ref only, never by username', async () => {
    const token = await alice.accessToken();
    for (const path of ['/api/reports/cdn/list', '/api/reports/cdn/summary', '/api/reports/cdn/2026-11-20']) expect((await getJson(path, token)).status).toBe(200);
    expect(await core.deps.reportStore.listTopLevelSegments()).not.toContain(alice.uid);
    for (const kind of ['list/reports.json', 'summary/summary.json', 'daily/2026-11-20/report.json']) {
      const body = await core.deps.reportStore.read(`${aliceRef}/${kind}`);
      expect(body).not.toBeNull();
      expect(body!).toContain(aliceRef);
      expect(body!).not.toContain(alice.uid);
    }
  });

  test('concurrent CDN misses for one key compute once', async () => {
    const token = await alice.accessToken();
    await core.deps.reportStore.deletePrefix(`${aliceRef}/daily/2026-11-23/`);
    const before = core.deps.metrics.registry.render();
    const answers = await Promise.all(Array.from({ length: 8 }, () => getJson('/api/reports/cdn/2026-11-23', token)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.cache === 'miss').length).toBeGreaterThan(0);
    const keys = new Set(answers.map((a) => a.body.key));
    expect(keys.size).toBe(1);
    void before;
  });
});

describe('reports.error', () => {
  test('a day without data is 404 in the envelope, also on the CDN route, and nothing is stored', async () => {
    const token = await alice.accessToken();
    for (const path of ['/api/reports/2026-11-22', '/api/reports/cdn/2026-11-22']) {
      const { status, body } = await getJson(path, token);
      expect(status).toBe(404);
      expect(body.error.code).toBe('not_found');
      expect(typeof body.error.requestId).toBe('string');
    }
    expect(await core.deps.reportStore.exists(`${aliceRef}/daily/2026-11-22/report.json`)).toBe(false);
  });

  test('bad dates and paging are 400', async () => {
    const token = await alice.accessToken();
    for (const path of ['/api/reports/2026-02-30', '/api/reports/yesterday', '/api/reports/2026-1-1', '/api/reports/cdn/2026-13-01', '/api/reports?limit=0', '/api/reports?limit=abc', '/api/reports?offset=-1', '/api/reports?limit=1000']) {
      const { status, body } = await getJson(path, token);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(body.error.code).toBe('bad_request');
    }
  });
});

describe('reports.security', () => {
  test('every protected route refuses a missing or garbage token with 401', async () => {
    const document = (await getJson('/openapi.json', await alice.accessToken())).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const protectedOps = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security?.length)
        .map(([method, _]) => ({ method: method.toUpperCase(), path: path.replace('{date}', '2026-11-20').replace('{user}', bob.uid) })),
    );
    expect(protectedOps.length).toBeGreaterThanOrEqual(11);
    for (const op of protectedOps) {
      for (const token of [undefined, 'garbage', 'a.b.c']) {
        const response = await core.request(op.path, { method: op.method, token, body: op.method === 'POST' ? '{"all":true}' : undefined, headers: op.method === 'POST' ? { 'content-type': 'application/json' } : undefined });
        expect({ op, token, status: response.status }).toEqual({ op, token, status: 401 });
        expect(response.headers.get('www-authenticate')).toContain('Bearer');
      }
    }
  });

  test('alice never sees bob: identity comes from the token, not the request', async () => {
    const token = await alice.accessToken();
    const attempts = [
      `/api/reports?user=${bob.uid}`,
      `/api/reports?user_id=${bob.uid}`,
      '/api/reports/2026-11-20',
      '/api/reports/summary',
      '/api/reports/cdn/2026-11-20',
      '/api/reports/cdn/list',
    ];
    for (const path of attempts) {
      const response = await core.request(path, { token, headers: { 'x-user-id': bob.uid, 'x-forwarded-user': bob.uid } });
      const text = await response.text();
      expect(text).not.toContain(bob.uid);
      expect(text).not.toContain(bobRef);
      expect(text).not.toContain('CHIP-BOB');
    }
    // Bob's own view has his day.
    const bobDay = await getJson('/api/reports/2026-11-20', await bob.accessToken());
    expect(bobDay.body.totals.movements).toBe(7);
    expect(bobDay.body.prostheses[0].chip_id).toBe('CHIP-BOB');
  });

  test("alice cannot use admin routes or invalidate, and her CDN URL cannot be bent to bob's object", async () => {
    const token = await alice.accessToken();
    for (const path of [`/api/admin/users/${bob.uid}/reports`, `/api/admin/users/${bob.uid}/reports/summary`, `/api/admin/users/${bob.uid}/reports/2026-11-20`]) {
      const { status, body } = await getJson(path, token);
      expect(status).toBe(403);
      expect(body.error.code).toBe('forbidden');
    }
    const invalidate = await core.request('/api/reports/invalidate', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_ids: [bobRef] }) });
    expect(invalidate.status).toBe(403);
    const { body } = await getJson('/api/reports/cdn/2026-11-20', token);
    const bent = new URL(body.url.replace(aliceRef, bobRef));
    expect(await verifyReportUrl(bent, core.config.CDN_SIGNING_KEY, Math.floor(Date.now() / 1000))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('a person without prothetic_user, and the service account, cannot read reports', async () => {
    for (const token of [await plainUser.accessToken(), await serviceAccountToken(core.env)]) {
      const { status } = await getJson('/api/reports', token);
      expect(status).toBe(403);
    }
  });

  test('an administrator reads any user, and each read is audited', async () => {
    const token = await admin.accessToken();
    const { status, body } = await getJson(`/api/admin/users/${bob.uid}/reports/2026-11-20`, token);
    expect(status).toBe(200);
    expect(body.user_id).toBe(bobRef);
    expect(body.totals.movements).toBe(7);
    expect((await getJson(`/api/admin/users/${alice.uid}/reports?limit=2`, token)).body.days).toHaveLength(2);
    expect((await getJson(`/api/admin/users/${alice.uid}/reports/summary`, token)).body.active_days).toBe(3);
    const audit = core.logger.lines.filter((line) => line.event === 'audit.admin_report_read' && [aliceRef, bobRef].includes(line.targetOwner as string));
    // The audit names both the person read and the administrator by owner ref, never by username.
    expect(audit.map((line) => line.targetOwner)).toEqual([bobRef, aliceRef, aliceRef]);
    expect(audit[0]!.actor).toBe(await core.deps.owners.refOf(admin.uid));
    for (const uid of [alice.uid, bob.uid, admin.uid]) expect(JSON.stringify(audit)).not.toContain(uid);
    expect(audit[0]).toMatchObject({ document: 'daily 2026-11-20' });
    // A hostile user segment never reaches SQL or S3 keys.
    expect((await getJson(`/api/admin/users/${encodeURIComponent("x' OR '1'='1")}/reports`, token)).status).toBe(400);
    expect((await getJson('/api/admin/users/..%2F..%2Fetc/reports', token)).status).toBe(400);
  });
});
