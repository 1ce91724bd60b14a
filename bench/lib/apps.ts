/**
 * The apps under measurement, started from their real entry files on spare loopback ports with
 * the stack's environment (as tests/apps/health.int.test.ts does), logs kept in memory for the
 * error message when one fails to come up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StackEnv } from '../../stack/lib/env.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import { freePort } from '../../tests/helpers/free-port.ts';

export type Runtime = 'node' | 'bun';

export const RUNTIME_BIN: Record<Runtime, string> = {
  node: join(ROOT, 'node_modules', '.bin', 'node'),
  bun: join(ROOT, 'node_modules', '.bin', 'bun'),
};

export interface RunningApp {
  name: string;
  runtime: Runtime;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function waitForHttp(url: string, watch: { child?: ChildProcess; output?: () => string; headers?: Record<string, string> } = {}, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (watch.child && watch.child.exitCode !== null) throw new Error(`exited with ${watch.child.exitCode}: ${(watch.output?.() ?? '').trim().slice(-800)}`);
    try {
      const response = await fetch(url, { headers: watch.headers, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last}): ${(watch.output?.() ?? '').trim().slice(-800)}`);
}

export interface AppSpec {
  name: 'core' | 'cdn' | 'bff';
  runtime: Runtime;
  env: StackEnv;
  extraEnv?: Record<string, string>;
}

const ENTRY: Record<AppSpec['name'], Record<Runtime, string[]>> = {
  core: { node: ['core/serve-node.ts'], bun: ['core/serve-bun.ts'] },
  cdn: { node: ['edge/runtime/node.ts', '--app=cdn'], bun: ['edge/runtime/bun.ts', '--app=cdn'] },
  bff: { node: ['edge/runtime/node.ts', '--app=bff'], bun: ['edge/runtime/bun.ts', '--app=bff'] },
};

const PORT_VARIABLE: Record<AppSpec['name'], string> = { core: 'PORT', cdn: 'CDN_PORT', bff: 'BFF_PORT' };

export async function startApp(spec: AppSpec): Promise<RunningApp> {
  const port = await freePort();
  // Default log level, as in production: the per-request log line is part of what is measured
  // (nginx, the anchor, writes its buffered access log too).
  // The edge (CDN, BFF) with a process per core, like the nginx anchor's worker_processes auto.
  const env = { ...process.env, ...spec.env, HOST: '127.0.0.1', ...(spec.name === 'core' ? {} : { EDGE_WORKERS: 'auto' }), ...spec.extraEnv, [PORT_VARIABLE[spec.name]]: String(port) };
  const child = spawn(RUNTIME_BIN[spec.runtime], ENTRY[spec.name][spec.runtime], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep only the tail: a server logging per request must not grow the runner's memory.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await waitForHttp(`${url}/health/live`, { child, output: () => output });
  } catch (error) {
    await stop();
    throw new Error(`${spec.name} on ${spec.runtime}: ${(error as Error).message}`);
  }
  return { name: spec.name, runtime: spec.runtime, url, pid: child.pid!, stop };
}
