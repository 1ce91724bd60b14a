import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createMemoryLogger } from '../../common/log.ts';
import { createApp } from '../../jobs/app.ts';
import { loadJobsConfig } from '../../jobs/config.ts';
import { cdcTopics } from '../../jobs/cdc/tables.ts';
import { buildJobsDeps, type JobsDeps } from '../../jobs/deps.ts';
import { tryJobLock } from '../../jobs/schedule/job-lock.ts';
import { loadStackEnv, type StackEnv } from '../../stack/lib/env.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from '../core/support/keycloak-people.ts';
import { seedReplica } from './support/crm-replica.ts';
import { createRecordingInvalidator } from './support/recording-invalidator.ts';
import { createScratchClickHouse, createScratchTelemetry, type ScratchClickHouse, type ScratchTelemetry } from './support/scratch-stores.ts';
import { generateEvents, insertEvents } from './support/telemetry-data.ts';

// The jobs HTTP app in-process (app.request) over the real stores (scratch copies) and the real
// realm: tokens are genuine — a directory administrator and a prosthesis owner signed in through
// Keycloak's pages, and the reports-jobs service account by client credentials.
const stackEnv = loadStackEnv();
let telemetry: ScratchTelemetry;
let clickhouse: ScratchClickHouse;
let admin: TestPerson;
let owner: TestPerson;
let serviceToken: string;
const harnesses: JobsDeps[] = [];

function harness(envOverrides: Partial<StackEnv> = {}) {
  const env = { ...stackEnv, CLICKHOUSE_DATABASE: clickhouse.database, CDC_ENABLED: 'false', LOG_LEVEL: 'debug', ...envOverrides };
  const base = buildJobsDeps(loadJobsConfig(env), { logger: createMemoryLogger('jobs'), invalidator: createRecordingInvalidator() });
  const deps: JobsDeps = {
    ...base,
    etlScope: { source: `test:${randomUUID().slice(0, 8)}`, telemetrySchema: telemetry.schema },
    etlSettings: { ...base.etlSettings, settleSeconds: 0 },
    retentionSettings: { ...base.retentionSettings, telemetrySchema: telemetry.schema },
  };
  harnesses.push(deps);
  const app = createApp(deps);
  return {
    deps,
    request(path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      if (init.json !== undefined) headers.set('content-type', 'application/json');
      return app.request(path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    },
  };
}

beforeAll(async () => {
  [telemetry, clickhouse] = await Promise.all([createScratchTelemetry(stackEnv, 'jobs_app'), createScratchClickHouse(stackEnv, 'jobs_app')]);
  [admin, owner, serviceToken] = await Promise.all([createTestPerson(stackEnv, ['administrator'], 'jobs'), createTestPerson(stackEnv, ['prothetic_user'], 'jobs'), serviceAccountToken(stackEnv)]);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(harnesses.map((deps) => deps.close()));
  await Promise.allSettled([admin?.remove(), owner?.remove(), telemetry?.drop(), clickhouse?.drop()]);
}, 60_000);

describe('jobs.health', () => {
  test('live and ready answer without a token; ready names each store', async () => {
    const jobs = harness();
    expect((await jobs.request('/health/live')).status).toBe(200);
    const ready = await jobs.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', failed: [], checks: { telemetry_db: { ok: true }, clickhouse: { ok: true } } });
  });

  test('ready is 503 naming ClickHouse when it does not answer', async () => {
    const jobs = harness({ CLICKHOUSE_URL: 'http://127.0.0.1:9', HEALTH_TIMEOUT_MS: '1000' });
    const ready = await jobs.request('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(await ready.json()).toMatchObject({ status: 'unavailable', failed: ['clickhouse'] });
  });

  test('cdc health: disabled when the consumer is off; 503 when enabled but not running', async () => {
    const off = await harness().request('/health/cdc');
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ status: 'disabled' });
    const enabled = await harness({ CDC_ENABLED: 'true' }).request('/health/cdc');
    expect(enabled.status).toBe(503);
    const body = (await enabled.json()) as {
      problems: string[];
      group: string;
      lag: { total: number | null; topics: Array<{ topic: string; lag: number | null; partitions: Array<{ partition: number; committed: number | null; end: number; lag: number }> }> } | null;
    };
    expect(body.problems).toContain('consumer has not started');
    // The group's lag as the broker reports it (core no longer reads Kafka: this is the one place).
    expect(body.group).toBe('reports-cdc');
    expect(body.lag?.topics.map((t) => t.topic)).toEqual(cdcTopics('crm'));
    for (const topic of body.lag!.topics) {
      for (const p of topic.partitions) if (p.committed !== null) expect(p.lag).toBe(Math.max(0, p.end - p.committed));
      if (topic.lag !== null) expect(topic.lag).toBe(topic.partitions.reduce((sum, p) => sum + p.lag, 0));
    }
  });
});

describe('jobs.security', () => {
  const protectedRoutes: Array<[string, string]> = [
    ['GET', '/metrics'],
    ['GET', '/runs'],
    ['POST', '/runs/etl'],
    ['POST', '/runs/retention'],
  ];
  for (const [method, path] of protectedRoutes) {
    test(`${method} ${path}: 401 without a token or with a forged one, 403 for a prosthesis owner`, async () => {
      const jobs = harness();
      const none = await jobs.request(path, { method });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      const real = await admin.accessToken();
      const [head, payload] = real.split('.');
      const forged = `${head}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
      expect((await jobs.request(path, { method, token: forged })).status).toBe(401);
      expect((await jobs.request(path, { method, token: 'not-a-jwt' })).status).toBe(401);
      const forbidden = await jobs.request(path, { method, token: await owner.accessToken() });
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }, 60_000);
  }

  test('the jobs service account may read metrics and runs but not trigger runs', async () => {
    const jobs = harness();
    const metrics = await jobs.request('/metrics', { token: serviceToken });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('# TYPE jobs_runs_total counter');
    expect((await jobs.request('/runs', { token: serviceToken })).status).toBe(200);
    expect((await jobs.request('/runs/etl', { method: 'POST', token: serviceToken })).status).toBe(403);
    expect((await jobs.request('/runs/retention', { method: 'POST', token: serviceToken })).status).toBe(403);
  });

  test('a token for another audience is refused', async () => {
    const jobs = harness({ API_AUDIENCE: 'some-other-api' });
    expect((await jobs.request('/runs', { token: serviceToken })).status).toBe(401);
  });
});

describe('jobs.runs', () => {
  test('an administrator triggers an ETL run (202), follows it in /runs, and a second trigger while the lock is held is 409', async () => {
    const jobs = harness();
    const tag = randomUUID().slice(0, 8);
    const chips = [`APP${tag}`];
    await seedReplica(clickhouse.client, [{ chipId: chips[0]!, username: `app-${tag}`, region: 'eu', modelName: 'Hand' }]);
    await insertEvents(telemetry.sql, telemetry.schema, generateEvents({ chips, startMs: Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 3_600_000, hours: 4, seed: 4 }));
    const token = await admin.accessToken();

    const started = await jobs.request('/runs/etl', { method: 'POST', token });
    expect(started.status).toBe(202);
    const { run_id } = (await started.json()) as { run_id: string; job: string };
    let run: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !run; i++) {
      const list = (await (await jobs.request('/runs?limit=10&job=etl', { token })).json()) as { runs: Array<Record<string, unknown>> };
      run = list.runs.find((r) => r.run_id === run_id);
      if (!run) await Bun.sleep(100);
    }
    expect(run).toMatchObject({ job: 'etl', status: 'succeeded', affected_users: 1 });
    expect(Number(run!.rows_written)).toBeGreaterThan(0);
    expect((jobs.deps.invalidator as ReturnType<typeof createRecordingInvalidator>).users()).toEqual(new Set([`app-${tag}`]));

    const replica = postgres(stackEnv.TELEMETRY_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const held = await tryJobLock(replica, `etl:${jobs.deps.etlScope.source}`);
      const busy = await jobs.request('/runs/etl', { method: 'POST', token });
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('conflict');
      await held!.release();
    } finally {
      await replica.end();
    }
  }, 60_000);

  test('a backfill body is validated: calendar days, from ≤ to, nothing else', async () => {
    const jobs = harness();
    const token = await admin.accessToken();
    const post = (json: unknown) => jobs.request('/runs/etl', { method: 'POST', token, json });
    expect((await post({ from: '2026-02-30', to: '2026-03-01' })).status).toBe(422);
    expect((await post({ from: '2026-03-05', to: '2026-03-01' })).status).toBe(422);
    expect((await post({ from: '2026-03-01', to: '2026-03-02', user: 'x' })).status).toBe(422);
    expect((await post({ from: '2026-03-01' })).status).toBe(422);
    const ok = await post({ from: '2026-03-01', to: '2026-03-02' });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ job: 'backfill', status: 'started' });
    expect((await jobs.request('/runs?limit=0', { token })).status).toBe(400);
    expect((await jobs.request('/runs?job=nope', { token })).status).toBe(400);
  }, 60_000);

  test('retention: a dry run lists and drops nothing; a real run is recorded', async () => {
    const jobs = harness();
    const token = await admin.accessToken();
    const dry = await jobs.request('/runs/retention', { method: 'POST', token, json: { dry_run: true } });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ status: 'planned', run: null });
    const real = await jobs.request('/runs/retention', { method: 'POST', token });
    expect(real.status).toBe(200);
    const body = (await real.json()) as { status: string; run: { run_id: string; job: string } };
    expect(body).toMatchObject({ status: 'succeeded', run: { job: 'retention' } });
    const list = (await (await jobs.request('/runs?job=retention', { token })).json()) as { runs: Array<{ run_id: string }> };
    expect(list.runs.map((r) => r.run_id)).toContain(body.run.run_id);
  }, 60_000);
});
