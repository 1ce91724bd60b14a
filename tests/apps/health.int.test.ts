import { afterEach, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * Black-box: each service's real entry file, started under Node 24 and under Bun on free ports,
 * must answer /health/live with JSON and an x-request-id header.
 */
const RUNTIMES = {
  node: join(ROOT, 'node_modules', '.bin', 'node'),
  bun: join(ROOT, 'node_modules', '.bin', 'bun'),
} as const;

interface ServiceCase {
  name: string;
  entry: { node: string; bun: string };
  /** Env variables naming the ports; each gets a free port and the service key expected there. */
  ports: Array<{ env: string; service: string }>;
}

const SERVICES: ServiceCase[] = [
  { name: 'core', entry: { node: 'core/serve-node.ts', bun: 'core/serve-bun.ts' }, ports: [{ env: 'PORT', service: 'core' }] },
  { name: 'jobs', entry: { node: 'jobs/serve-node.ts', bun: 'jobs/serve-bun.ts' }, ports: [{ env: 'PORT', service: 'jobs' }] },
  {
    name: 'edge',
    entry: { node: 'edge/runtime/node.ts', bun: 'edge/runtime/bun.ts' },
    ports: [
      { env: 'BFF_PORT', service: 'bff' },
      { env: 'CDN_PORT', service: 'cdn' },
    ],
  },
];

async function waitForLive(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      return await fetch(url, { signal: AbortSignal.timeout(1000) });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms:\n${output()}`);
}

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

describe('service entry files answer /health/live', () => {
  for (const service of SERVICES) {
    for (const runtime of ['node', 'bun'] as const) {
      test(`${service.name} under ${runtime}`, async () => {
        const ports = await Promise.all(service.ports.map(async (p) => ({ ...p, port: await freePort() })));
        // Services parse their whole config at start (core needs every connection setting), so they get
        // the stack's environment; liveness itself touches no dependency.
        const env: Record<string, string | undefined> = { ...process.env, ...loadStackEnv(), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
        for (const p of ports) env[p.env] = String(p.port);
        const child = spawn(RUNTIMES[runtime], [service.entry[runtime]], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        running.push(child);
        let output = '';
        child.stdout?.on('data', (chunk) => (output += chunk));
        child.stderr?.on('data', (chunk) => (output += chunk));

        for (const p of ports) {
          const response = await waitForLive(`http://127.0.0.1:${p.port}/health/live`, child, () => output);
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toContain('application/json');
          expect(response.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
          const body = (await response.json()) as Record<string, unknown>;
          expect(body.status).toBe('ok');
          expect(body.service).toBe(p.service);
        }
        // The wide event reached stdout as one JSON line carrying the same fields.
        await new Promise((r) => setTimeout(r, 100));
        const requestLine = output.split('\n').find((line) => line.includes('"http.request"'));
        expect(requestLine).toBeDefined();
        const event = JSON.parse(requestLine!) as Record<string, unknown>;
        expect(event).toMatchObject({ method: 'GET', path: '/health/live', status: 200 });
        expect(typeof event.requestId).toBe('string');
      });
    }
  }
});
