import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

// Health, CDC health, metrics and the API description, against the running stack.
let core: CoreHarness;
let person: TestPerson;

beforeAll(async () => {
  core = createCoreHarness();
  person = await createTestPerson(core.env, ['prothetic_user'], 'ops');
}, 120_000);

afterAll(async () => {
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await core?.close();
});

describe('health', () => {
  test('live and ready answer without a token; ready checks ClickHouse, S3 and the JWKS', async () => {
    expect((await core.request('/health/live')).status).toBe(200);
    const ready = await core.request('/health/ready');
    const body = (await ready.json()) as any;
    expect({ status: ready.status, failed: body.failed }).toEqual({ status: 200, failed: [] });
    expect(Object.keys(body.checks).sort()).toEqual(['clickhouse', 'jwks', 's3']);
  });

  test('/health/cdc reports what the ClickHouse CDC tables really hold', async () => {
    const response = await core.request('/health/cdc');
    const body = (await response.json()) as any;
    expect([200, 503]).toContain(response.status);
    expect(response.status === 200).toBe(body.problems.length === 0);
    // Row counts equal a direct count over the deduplicated CDC tables.
    const client = createClickHouseClient(clickHouseConfigFromEnv(core.env));
    try {
      for (const table of body.tables) {
        const result = await client.query({ query: `SELECT count() AS n FROM ${table.table} FINAL WHERE _deleted = 0`, format: 'JSONEachRow' });
        const n = ((await result.json()) as Array<{ n: string }>)[0]?.n;
        expect({ table: table.table, rows: table.live_rows }).toEqual({ table: table.table, rows: Number(n) });
      }
    } finally {
      await client.close();
    }
    expect(body.tables.map((t: { table: string }) => t.table)).toEqual(['crm_customers', 'crm_prosthesis_models', 'crm_prostheses', 'crm_orders']);
    // Core holds no Kafka client: consumer lag is jobs' /health/cdc.
    expect(Object.keys(body).sort()).toEqual(['problems', 'status', 'tables']);
  });

  test('/health/cdc names ClickHouse when it does not answer', async () => {
    const broken = createCoreHarness({ CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    try {
      const response = await broken.request('/health/cdc');
      expect(response.status).toBe(503);
      const body = (await response.json()) as any;
      expect(body.problems.some((p: string) => p.startsWith('clickhouse:'))).toBe(true);
      expect(body.tables).toBeNull();
    } finally {
      await broken.close();
    }
  });
});

describe('metrics', () => {
  test('Prometheus text for the service account; 403 for a person, 401 without a token', async () => {
    await core.request('/health/live');
    const response = await core.request('/metrics', { token: await serviceAccountToken(core.env) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE core_http_requests_total counter');
    expect(text).toMatch(/core_http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
    expect(text).toContain('core_http_request_duration_seconds_bucket');
    expect((await core.request('/metrics', { token: await person.accessToken() })).status).toBe(403);
    expect((await core.request('/metrics')).status).toBe(401);
  });
});

describe('API description', () => {
  test('/openapi.json lists every operation; /docs renders it; both need a token', async () => {
    expect((await core.request('/openapi.json')).status).toBe(401);
    expect((await core.request('/docs')).status).toBe(401);
    const token = await person.accessToken();
    const document = (await (await core.request('/openapi.json', { token })).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'GET /health/live',
        'GET /health/ready',
        'GET /health/cdc',
        'GET /api/reports',
        'GET /api/reports/summary',
        'GET /api/reports/{date}',
        'GET /api/reports/cdn/list',
        'GET /api/reports/cdn/summary',
        'GET /api/reports/cdn/{date}',
        'POST /api/reports/invalidate',
        'GET /api/admin/users/{user}/reports',
        'GET /api/admin/users/{user}/reports/summary',
        'GET /api/admin/users/{user}/reports/{date}',
        'POST /api/telemetry',
        'GET /metrics',
        'GET /api/crm/customers',
        'POST /api/crm/customers',
        'GET /api/crm/customers/{id}',
        'PATCH /api/crm/customers/{id}',
        'GET /api/crm/models',
        'POST /api/crm/prostheses',
        'GET /api/crm/prostheses/{id}',
        'PUT /api/crm/prostheses/{id}/customer',
        'POST /api/crm/orders',
        'GET /api/crm/orders/{id}',
        'PUT /api/crm/orders/{id}/status',
        'GET /api/crm/replication/{entity}/{id}',
      ].sort(),
    );
    const docs = await core.request('/docs', { token });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('GET /api/reports/{date}');
  });

  test('the request id from the edge is echoed and logged', async () => {
    const response = await core.request('/api/reports', { token: await person.accessToken(), headers: { 'x-request-id': 'edge-req-000123' } });
    expect(response.headers.get('x-request-id')).toBe('edge-req-000123');
    const line = core.logger.lines.find((l) => l.event === 'http.request' && l.requestId === 'edge-req-000123');
    // The request's line names the person by owner ref only, never by username (issue 11).
    expect(line).toMatchObject({ method: 'GET', path: '/api/reports', status: 200, actor: await core.deps.owners.refOf(person.uid) });
    expect(JSON.stringify(line)).not.toContain(person.uid);
    expect(JSON.stringify(core.logger.lines)).not.toContain((await person.accessToken()).slice(-20));
  });
});
