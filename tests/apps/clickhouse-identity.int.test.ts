import { afterEach, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { clickHouseIdentity } from '../../stack/dev.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * Least privilege (issue 9): `npm run dev` starts core and jobs as their own ClickHouse users, not as
 * `default`. Each app, started from its entry file with exactly the identity dev gives it, must be
 * ready (its ClickHouse checks pass as that user), and that user must not be able to do more.
 */
const stackEnv = loadStackEnv();
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const running: ChildProcess[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

async function startApp(entry: string, env: Record<string, string>): Promise<{ url: string; output: () => string }> {
  const port = await freePort();
  const child = spawn(NODE, [entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', CDC_ENABLED: 'false', SCHEDULER_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}:\n${output}`);
    const live = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (live?.ok) return { url, output: () => output };
    if (Date.now() > deadline) throw new Error(`${entry} not live within 20 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
