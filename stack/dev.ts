import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StackEnv } from '../tools/kit/env.ts';
import { appEnv, clickHouseIdentity } from './app-env.ts';
import { ROOT } from '../tools/kit/paths.ts';

/** Tooling steps (demo data, the ETL pass) run on the pinned Node 24, as the scripts do. */
const node = join(ROOT, 'node_modules', '.bin', 'node');

export type AppRuntime = 'node' | 'bun';

/**
 * The runtime the apps run on: `npm run dev` runs them on Node 24, `bun run dev` on Bun (Bun's run
 * sets npm_config_user_agent to `bun/…`), so each package manager's user sees the apps on the
 * runtime they chose; DEV_RUNTIME=node|bun overrides either.
 */
export function appRuntime(env: NodeJS.ProcessEnv = process.env): AppRuntime {
  const wanted = env.DEV_RUNTIME;
  if (wanted === 'node' || wanted === 'bun') return wanted;
  if (wanted) throw new Error(`DEV_RUNTIME must be node or bun, not "${wanted}"`);
  return env.npm_config_user_agent?.startsWith('bun/') ? 'bun' : 'node';
}

interface App {
  name: string;
  args: string[];
  url: string;
}

// The identities moved to app-env.ts with the allow-list that uses them; tests and tools import them from here.
export { clickHouseIdentity, kafkaIdentity, redisIdentity } from './app-env.ts';

/** Every app's entry file per runtime; the pinned binaries, whichever package manager installed them. */
export function appsFor(runtime: AppRuntime): App[] {
  const bin = join(ROOT, 'node_modules', '.bin', runtime);
  const entry = (nodeFile: string, bunFile: string) => [bin, runtime === 'node' ? nodeFile : bunFile];
  return [
    { name: 'core', args: entry('core/serve-node.ts', 'core/serve-bun.ts'), url: 'http://127.0.0.1:8001/health/live' },
    { name: 'jobs', args: entry('jobs/serve-node.ts', 'jobs/serve-bun.ts'), url: 'http://127.0.0.1:8081/health/live' },
    { name: 'edge', args: entry('edge/runtime/node.ts', 'edge/runtime/bun.ts'), url: 'http://localhost:8000 (BFF), http://localhost:8002 (CDN edge)' },
    // Vite's dev server stays on Node: it is tooling, and Node is what Vite supports.
    { name: 'frontend', args: [node, 'node_modules/vite/bin/vite.js', '--config', 'frontend/vite.config.ts'], url: 'http://localhost:3000' },
  ];
}

/** Runs a step to completion with its output streamed (the generator prints its own progress). */
function runStep(label: string, args: string[], env: StackEnv): Promise<void> {
  console.log(`\n==> ${label}`);
  return new Promise((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${label} failed (exit ${code})`))));
  });
}

function startApp(app: App, env: StackEnv): ChildProcess {
  // Only the app's own secrets (stack/app-env.ts), not the admin credentials the stack env holds.
  const child = spawn(app.args[0]!, app.args.slice(1), { cwd: ROOT, env: appEnv(app.name, env, process.env), stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => console.log(`[${app.name.padEnd(8)}] ${line}`));
  }
  child.on('exit', (code, signal) => console.log(`[${app.name.padEnd(8)}] exited (${signal ?? code})`));
  return child;
}

async function printWelcome(env: StackEnv, apps: App[], runtime: AppRuntime): Promise<void> {
  const { people, demoPassword } = await import('../demo/people.ts');
  console.log(`\nBionicPRO is running (core, jobs and edge on ${runtime === 'bun' ? 'Bun' : 'Node 24'}):`);
  for (const app of apps) console.log(`  ${app.name.padEnd(9)} ${app.url}`);
  console.log(`  keycloak  ${env.KEYCLOAK_URL}/admin (admin: ${env.KEYCLOAK_ADMIN_USER} / ${env.KEYCLOAK_ADMIN_PASSWORD})`);
  // Each person has their own password (generated for this machine in .stack/stack.env).
  console.log(`\nOpen ${env.FRONTEND_URL} and sign in as one of (username, password, directory, roles):`);
  for (const person of people) console.log(`  ${person.uid.padEnd(18)} ${demoPassword(env, person.uid).padEnd(34)} ${person.region}  ${person.roles.join(', ')}`);
  console.log('The first sign-in asks you to enrol TOTP in an authenticator app. Stop with Ctrl+C (the stack keeps running; `npm run stack:down` or `bun run stack:down` stops it).');
}

/** Polls until `check` answers true; progress every few seconds, an error naming `label` on timeout. */
async function waitFor(label: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let lastPrint = started;
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`${label}: not done after ${Math.round(timeoutMs / 1000)}s`);
    if (Date.now() - lastPrint > 5_000) {
      lastPrint = Date.now();
      console.log(`    … ${label} (${Math.round((Date.now() - started) / 1000)}s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * The ETL joins telemetry with the CRM as replicated into ClickHouse, and skips chips it does not
 * know yet; so the first pass waits until the CDC consumer (in jobs) has brought every prosthesis over.
 */
async function waitForCrmReplica(env: StackEnv): Promise<void> {
  const postgres = (await import('postgres')).default;
  const { clickHouseConfigFromEnv, createClickHouseClient } = await import('../db/clickhouse/client.ts');
  const crm = postgres(env.CRM_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const clickhouse = createClickHouseClient(clickHouseConfigFromEnv(env));
  try {
    const [{ count }] = (await crm`select count(*)::int as count from crm.prostheses`) as unknown as [{ count: number }];
    await waitFor(`CDC: ${count} prostheses replicated to ClickHouse`, async () => {
      const result = await clickhouse.query({ query: 'SELECT count() AS n FROM crm_prostheses FINAL WHERE _deleted = 0', format: 'JSONEachRow' });
      const [row] = (await result.json()) as Array<{ n: string | number }>;
      return Number(row?.n ?? 0) >= count;
    }, 120_000);
  } finally {
    await crm.end();
    await clickhouse.close();
  }
}

/**
 * `npm run dev` / `bun run dev`: demo data, then edge, core, jobs and frontend in the foreground, then one ETL pass
 * once core (which it invalidates) is up and the CRM has replicated.
 */
export async function runDev(env: StackEnv): Promise<void> {
  await runStep('demo data (deterministic, seed 42)', [node, 'demo/generate.ts', '--seed', '42', '--customers', '40', '--days', '30'], env);
  const runtime = appRuntime();
  const apps = appsFor(runtime);
  console.log(`\n==> starting core, jobs, edge (on ${runtime}) and frontend`);
  const children = apps.map((app) => startApp(app, env));
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await waitFor('core answering on 8001', async () => (await fetch(`${env.CORE_URL}/health/live`)).ok, 60_000);
    await waitForCrmReplica(env);
    await runStep('ETL: telemetry → ClickHouse report mart', [node, 'jobs/cli.ts', 'run-once'], { ...env, ...clickHouseIdentity('jobs', env) });
  } catch (error) {
    stop();
    throw error;
  }
  await printWelcome(env, apps, runtime);
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
}
