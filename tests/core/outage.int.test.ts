import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createCoreHarness, createMartSeeder, type CoreHarness } from './support/harness.ts';
import { createTestPerson, type TestPerson } from './support/keycloak-people.ts';

/**
 * Dependencies down without stopping the shared servers: a second core instance points its
 * ClickHouse (or S3) URL at a closed port. Objects cached while ClickHouse was up are still served;
 * misses answer 503 with Retry-After naming the dependency; readiness names it too.
 */
const CLOSED = 'http://127.0.0.1:1';
let healthy: CoreHarness;
let noClickHouse: CoreHarness;
let noS3: CoreHarness;
let person: TestPerson;
/** The person's report owner ref: the mart's and S3's owner key (core/reports/owners.ts). */
let ownerRef: string;
let seeder: ReturnType<typeof createMartSeeder>;

beforeAll(async () => {
  healthy = createCoreHarness();
  noClickHouse = createCoreHarness({ CLICKHOUSE_URL: CLOSED });
  noS3 = createCoreHarness({ S3_ENDPOINT: CLOSED });
  seeder = createMartSeeder(healthy.env);
  person = await createTestPerson(healthy.env, ['prothetic_user'], 'outage');
  ownerRef = await healthy.deps.owners.refOf(person.uid);
  await seeder.insert([
    { user_id: ownerRef, hour: '2026-11-18 09:00:00', movements: 40, successful_movements: 30 },
    { user_id: ownerRef, hour: '2026-11-19 09:00:00', movements: 20, successful_movements: 20 },
  ]);
}, 120_000);

afterAll(async () => {
  if (person) await healthy.deps.reportStore.deletePrefix(`${ownerRef}/`).catch(() => undefined);
  await seeder?.cleanup();
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await Promise.all([healthy, noClickHouse, noS3].filter(Boolean).map((h) => h.close()));
});

describe('outage: ClickHouse unreachable', () => {
  test('cached objects are still served; misses answer 503 with Retry-After naming ClickHouse', async () => {
    const token = await person.accessToken();
    // Warm the cache for 2026-11-18 (JSON and CDN object are the same S3 object) and the summary.
    expect((await healthy.request('/api/reports/cdn/2026-11-18', { token })).status).toBe(200);
    expect((await healthy.request('/api/reports/summary', { token })).status).toBe(200);

    const cachedDaily = await noClickHouse.request('/api/reports/2026-11-18', { token });
    expect(cachedDaily.status).toBe(200);
    expect(((await cachedDaily.json()) as any).totals.movements).toBe(40);
    const cachedUrl = await noClickHouse.request('/api/reports/cdn/2026-11-18', { token });
    expect(cachedUrl.status).toBe(200);
    expect(((await cachedUrl.json()) as any).cache).toBe('hit');
    expect((await noClickHouse.request('/api/reports/summary', { token })).status).toBe(200);

    for (const path of ['/api/reports/2026-11-19', '/api/reports/cdn/2026-11-19', '/api/reports', '/api/reports/cdn/list']) {
      const response = await noClickHouse.request(path, { token });
      expect({ path, status: response.status }).toEqual({ path, status: 503 });
      expect(response.headers.get('retry-after')).toBe('5');
      const body = (await response.json()) as any;
      expect(body.error).toMatchObject({ code: 'service_unavailable', details: { dependency: 'clickhouse' } });
    }
    // Nothing half-written: the failed miss left no object behind.
    expect(await healthy.deps.reportStore.exists(`${ownerRef}/daily/2026-11-19/report.json`)).toBe(false);
  });

  test('readiness answers 503 and names ClickHouse; liveness stays 200', async () => {
    const ready = await noClickHouse.request('/health/ready');
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as any;
    expect(body.failed).toEqual(['clickhouse']);
    expect(body.checks.s3.ok).toBe(true);
    expect((await noClickHouse.request('/health/live')).status).toBe(200);
  });
});

describe('outage: S3 unreachable', () => {
  test('report routes answer 503 naming S3; readiness names S3', async () => {
    const token = await person.accessToken();
    const response = await noS3.request('/api/reports/2026-11-18', { token });
    expect(response.status).toBe(503);
    expect(((await response.json()) as any).error.details).toEqual({ dependency: 's3' });
    const ready = (await (await noS3.request('/health/ready')).json()) as any;
    expect(ready.failed).toEqual(['s3']);
  });
});
