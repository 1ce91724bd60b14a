import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { ROOT } from '../../../tools/kit/paths.ts';

/**
 * The project's own apps for the browser tests, started as real processes with the stack env on
 * their usual ports (Keycloak only redirects to BFF_PUBLIC_URL, so the BFF cannot move): core on
 * 8001, the edge (BFF 8000 + CDN 8002), and the frontend built with `vite build` and served by
 * `vite preview` on 3000 with the edge's security headers and /auth, /api proxied to the BFF.
 * The BFF serves the same build too (FRONTEND_DIST_DIR), so the app also loads from 8000, one
 * origin with /auth and /api; FRONTEND_URL stays 3000, where the BFF sends the browser after login.
 * Logs go to artifacts/e2e/logs/. `stop()` ends exactly the processes started here.
 */

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
const LOG_DIR = join(ROOT, 'artifacts', 'e2e', 'logs');

export interface RunningApps {
  env: StackEnv;
  /** Where the browser opens the app (FRONTEND_URL). */
  appUrl: string;
  /** The BFF, which also serves the same build (one origin with /auth and /api). */
  bffUrl: string;
  cdnUrl: string;
  coreUrl: string;
  stop(): Promise<void>;
}

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function startProcess(name: string, args: string[], env: Record<string, string | undefined>): Started {
  mkdirSync(LOG_DIR, { recursive: true });
  // The child writes its log file itself: no pipes for this process to drain or close.
  const log = openSync(join(LOG_DIR, `${name}.log`), 'w');
  let child: ChildProcess;
  try {
    // Its own process group, so stop() also ends what it spawned (vite's esbuild service).
    child = spawn(args[0]!, args.slice(1), { cwd: ROOT, env, stdio: ['ignore', log, log], detached: true });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, exited };
}

async function runToEnd(name: string, args: string[], env: Record<string, string | undefined>): Promise<void> {
  const started = startProcess(name, args, env);
  const code = await new Promise<number | null>((resolve) => started.child.once('exit', (exitCode) => resolve(exitCode)));
  if (code !== 0) throw new Error(`${name} failed (exit ${code}); see ${join(LOG_DIR, `${name}.log`)}`);
}

async function waitForHttp(name: string, url: string, started: Started, accept: (response: Response, body: string) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited during start; see ${join(LOG_DIR, `${name}.log`)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (accept(response, body)) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${name} not ready at ${url} within ${timeoutMs} ms (${last}); see ${join(LOG_DIR, `${name}.log`)}`);
}

async function stopProcess(started: Started): Promise<void> {
  const pid = started.child.pid;
  if (pid === undefined || started.child.exitCode !== null || started.child.signalCode !== null) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const timedOut = await Promise.race([started.exited.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 5_000))]);
  if (timedOut) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    await started.exited;
  }
}

const isLive = (response: Response) => response.status === 200;

export async function startApps(stackEnv: StackEnv): Promise<RunningApps> {
  const appUrl = stackEnv.FRONTEND_URL!;
  const bffUrl = stackEnv.BFF_PUBLIC_URL!;
  const cdnUrl = stackEnv.CDN_URL!;
  const coreUrl = stackEnv.CORE_URL!;
  const ports = [
    { name: 'core', port: Number(new URL(coreUrl).port) },
    { name: 'bff', port: Number(new URL(bffUrl).port) },
    { name: 'cdn', port: Number(new URL(cdnUrl).port) },
    { name: 'frontend', port: Number(new URL(appUrl).port) },
  ];
  for (const { name, port } of ports) {
    if (await isPortOpen(port)) {
      throw new Error(`e2e: port ${port} (${name}) is already in use. The browser tests start their own apps; stop the running one (npm run dev?) and run them again.`);
    }
  }

  const env: Record<string, string | undefined> = {
    ...process.env,
    ...stackEnv,
    LOG_LEVEL: 'info',
    // Every browser here is 127.0.0.1 to the BFF, and its per-address /auth window lives in Redis
    // across app restarts: the default 60 a minute is a real person's budget, not a test suite's.
    AUTH_RATE_LIMIT: process.env.E2E_AUTH_RATE_LIMIT ?? '2000',
  };
  const started: Started[] = [];
  const distDir = mkdtempSync(join(tmpdir(), 'bionicpro-e2e-dist-'));
  const stop = async () => {
    for (const app of started.reverse()) await stopProcess(app);
    rmSync(distDir, { recursive: true, force: true });
  };
  try {
    // bun test sets NODE_ENV=test, which would make Vite bundle React's development build.
    await runToEnd('frontend-build', [NODE, VITE, 'build', '--config', 'frontend/vite.config.ts', '--outDir', distDir, '--emptyOutDir', '--logLevel', 'warn'], { ...env, NODE_ENV: 'production' });

    const core = startProcess('core', [NODE, 'core/serve-node.ts'], env);
    started.push(core);
    const edge = startProcess('edge', [NODE, 'edge/runtime/node.ts'], { ...env, FRONTEND_DIST_DIR: distDir });
    started.push(edge);
    const frontend = startProcess('frontend', [NODE, VITE, 'preview', '--config', 'frontend/vite.config.ts', '--outDir', distDir], env);
    started.push(frontend);

    await Promise.all([
      waitForHttp('core', `${coreUrl}/health/live`, core, isLive),
      waitForHttp('edge (bff)', `${bffUrl}/health/live`, edge, isLive),
      waitForHttp('edge (cdn)', `${cdnUrl}/health/live`, edge, isLive),
      waitForHttp('frontend', appUrl, frontend, (response, body) => response.status === 200 && body.includes('id="root"')),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { env: stackEnv, appUrl, bffUrl, cdnUrl, coreUrl, stop };
}
