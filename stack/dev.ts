import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StackEnv } from './lib/env.ts';
import { ROOT } from './lib/paths.ts';

const node = join(ROOT, 'node_modules', '.bin', 'node');

interface App {
  name: string;
  args: string[];
  url: string;
}

const APPS: App[] = [
  { name: 'core', args: [node, 'core/serve-node.ts'], url: 'http://127.0.0.1:8001/health/live' },
  { name: 'jobs', args: [node, 'jobs/serve-node.ts'], url: 'http://127.0.0.1:8081/health/live' },
  { name: 'edge', args: [node, 'edge/runtime/node.ts'], url: 'http://localhost:8000 (BFF), http://localhost:8002 (CDN edge)' },
  { name: 'frontend', args: [node, 'node_modules/vite/bin/vite.js', '--config', 'frontend/vite.config.ts'], url: 'http://localhost:3000' },
];

/** Runs a step to completion with its output streamed (the generator prints its own progress). */
function runStep(label: string, args: string[], env: StackEnv): Promise<void> {
  console.log(`\n==> ${label}`);
  return new Promise((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${label} failed (exit ${code})`))));
  });
}

function startApp(app: App, env: StackEnv): ChildProcess {
  const child = spawn(app.args[0]!, app.args.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => console.log(`[${app.name.padEnd(8)}] ${line}`));
  }
  child.on('exit', (code, signal) => console.log(`[${app.name.padEnd(8)}] exited (${signal ?? code})`));
  return child;
}

async function printWelcome(env: StackEnv): Promise<void> {
  const { people } = await import('../demo/people.ts');
  console.log('\nBionicPRO is running:');
  for (const app of APPS) console.log(`  ${app.name.padEnd(9)} ${app.url}`);
  console.log(`  keycloak  ${env.KEYCLOAK_URL}/admin (admin: ${env.KEYCLOAK_ADMIN_USER} / ${env.KEYCLOAK_ADMIN_PASSWORD})`);
  console.log(`\nOpen ${env.FRONTEND_URL} and sign in as one of (password for all: ${env.DEMO_USER_PASSWORD}):`);
  for (const person of people) console.log(`  ${person.uid.padEnd(18)} ${person.region}  ${person.roles.join(', ')}`);
  console.log('The first sign-in asks you to enrol TOTP in an authenticator app. Stop with Ctrl+C (the stack keeps running; `npm run stack:down` stops it).');
}

/** `npm run dev`: demo data, one ETL pass, then edge, core, jobs and frontend in the foreground. */
export async function runDev(env: StackEnv): Promise<void> {
  await runStep('demo data (deterministic, seed 42)', [node, 'demo/generate.ts', '--seed', '42', '--customers', '40', '--days', '30'], env);
  await runStep('ETL: telemetry → ClickHouse report mart', [node, 'jobs/cli.ts', 'run-once'], env);
  const children = APPS.map((app) => startApp(app, env));
  await printWelcome(env);
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
}
