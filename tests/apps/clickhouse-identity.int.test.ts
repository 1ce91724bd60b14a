import { afterEach, describe, expect, test } from 'bun:test';
import { clickHouseIdentity } from '../../stack/dev.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { startServiceChild, type ServiceChild } from '../core/support/chunked-flood.ts';

/**
 * Least privilege (issue 9): `npm run dev` starts core and jobs as their own ClickHouse users, not as
 * `default`. Each app, started from its entry file with exactly the identity dev gives it, must be
 * ready (its ClickHouse checks pass as that user), and that user must not be able to do more.
 */
const stackEnv = loadStackEnv();
const running: ServiceChild[] = [];

afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
});

/** Starts an app from its Node entry file with `env` (scheduler and CDC consumer off) and waits until it is live. */
async function startApp(entry: string, env: Record<string, string>): Promise<{ url: string }> {
  const app = await startServiceChild(entry, { ...process.env, ...env, CDC_ENABLED: 'false', SCHEDULER_ENABLED: 'false' });
  running.push(app);
  return { url: `http://127.0.0.1:${app.port}` };
}

async function clickHouseAs(identity: Record<string, string>, query: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${stackEnv.CLICKHOUSE_URL}/?database=${stackEnv.CLICKHOUSE_DATABASE}`, {
    method: 'POST',
    headers: { 'X-ClickHouse-User': identity.CLICKHOUSE_USER!, 'X-ClickHouse-Key': identity.CLICKHOUSE_PASSWORD! },
    body: query,
  });
  return { status: response.status, body: await response.text() };
}

describe('core and jobs reach ClickHouse as their own users', () => {
  test('dev gives core core_reader and jobs jobs_writer, never default', () => {
    expect(clickHouseIdentity('core', stackEnv).CLICKHOUSE_USER).toBe(stackEnv.CLICKHOUSE_CORE_USER!);
    expect(clickHouseIdentity('jobs', stackEnv).CLICKHOUSE_USER).toBe(stackEnv.CLICKHOUSE_JOBS_USER!);
    for (const app of ['core', 'jobs']) expect(clickHouseIdentity(app, stackEnv).CLICKHOUSE_USER).not.toBe('default');
    expect(clickHouseIdentity('edge', stackEnv)).toEqual({});
  });

  test('core is ready as core_reader, which reads the report tables and cannot write them', async () => {
    const identity = clickHouseIdentity('core', stackEnv);
    const core = await startApp('core/serve-node.ts', { ...stackEnv, ...identity });
    const ready = await fetch(`${core.url}/health/ready`);
    expect({ status: ready.status, body: await ready.text() }).toMatchObject({ status: 200 });
    const cdc = await fetch(`${core.url}/health/cdc`);
    expect(cdc.status).toBe(200);
    expect((await clickHouseAs(identity, 'SELECT count() FROM report_hourly')).status).toBe(200);
    const write = await clickHouseAs(identity, "INSERT INTO etl_runs (run_id) VALUES ('00000000-0000-0000-0000-000000000000')");
    expect(write.status).not.toBe(200);
    expect(write.body).toMatch(/readonly|Cannot (execute|insert)/i);
  });

  test('jobs is ready as jobs_writer', async () => {
    const identity = clickHouseIdentity('jobs', stackEnv);
    const jobs = await startApp('jobs/serve-node.ts', { ...stackEnv, ...identity });
    const ready = await fetch(`${jobs.url}/health/ready`);
    expect({ status: ready.status, body: await ready.text() }).toMatchObject({ status: 200 });
  });
});
