import { join } from 'node:path';
import { ROOT } from '../../../tools/kit/paths.ts';
import { freePort } from '../../helpers/free-port.ts';
import { BUN, DENO, NODE, startProcess, stackEnv, type RunningProcess } from '../support.ts';

/**
 * Starts the edge (BFF + CDN) from its real entry file on one runtime, on free ports, against the
 * stack's services. EDGE_RUNTIMES=node,bun narrows the runtimes a run covers (default: all four).
 */
export const ALL_RUNTIMES = ['node', 'bun', 'deno', 'workerd'] as const;
export type EdgeRuntime = (typeof ALL_RUNTIMES)[number];

export function selectedRuntimes(): EdgeRuntime[] {
  const wanted = process.env.EDGE_RUNTIMES?.split(',').map((name) => name.trim()).filter(Boolean);
  if (!wanted) return [...ALL_RUNTIMES];
  const unknown = wanted.filter((name) => !(ALL_RUNTIMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`EDGE_RUNTIMES: unknown runtime(s) ${unknown.join(', ')}`);
  return wanted as EdgeRuntime[];
}

export interface RunningEdge {
  runtime: EdgeRuntime;
  bffUrl: string;
  cdnUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** Settings every runtime gets on top of the stack's; the BFF reaches core at `coreUrl`. */
function edgeSettings(coreUrl: string, cdnUrl: string): Record<string, string> {
  return { CORE_URL: coreUrl, CDN_URL: cdnUrl, AUTH_RATE_LIMIT: '100000', LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
}

/** Secrets the workerd workers need (`secrets.required` in edge/wrangler.jsonc). */
const WORKERD_SECRETS = ['BFF_CLIENT_SECRET', 'SESSION_ENCRYPTION_KEY', 'CDN_SIGNING_KEY', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];
const WORKERD_HOST = join(ROOT, 'tests', 'edge', 'contract', 'workerd-host.ts');
const WORKERD_VARS = ['KEYCLOAK_URL', 'KEYCLOAK_REALM', 'BFF_PUBLIC_URL', 'FRONTEND_URL', 'S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET'];

export async function startEdge(runtime: EdgeRuntime, coreUrl: (cdnUrl: string) => Promise<string>): Promise<RunningEdge> {
  const [bffPort, cdnPort] = [await freePort(), await freePort()];
  const cdnUrl = `http://127.0.0.1:${cdnPort}`;
  const settings = edgeSettings(await coreUrl(cdnUrl), cdnUrl);

  if (runtime !== 'workerd') {
    const env = { ...process.env, ...stackEnv, ...settings, BFF_PORT: String(bffPort), CDN_PORT: String(cdnPort) };
    const [command, args] = {
      node: [NODE, ['edge/runtime/node.ts']],
      bun: [BUN, ['edge/runtime/bun.ts']],
      deno: [DENO, ['run', '-A', 'edge/runtime/deno.ts']],
    }[runtime] as [string, string[]];
    const process_ = await startProcess(command, args, { env, port: bffPort, timeoutMs: 60_000 });
    // Both apps listen from one process; the BFF answering means the CDN port is bound too.
    await startProcessWait(`${cdnUrl}/health/live`);
    return { runtime, bffUrl: process_.url, cdnUrl, output: process_.output, stop: process_.stop };
  }

  // workerd: one worker per app from edge/wrangler.jsonc, served by Miniflare (workerd-host.ts
  // says why not `wrangler dev`), each in its own process with its own in-memory state.
  const workers: RunningProcess[] = [];
  const start = async (app: 'bff' | 'cdn', port: number) => {
    const vars = { ...Object.fromEntries(WORKERD_VARS.map((name) => [name, stackEnv[name]!])), ...settings };
    const secrets = Object.fromEntries(WORKERD_SECRETS.map((name) => [name, stackEnv[name]!]));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, EDGE_WORKER_BINDINGS: JSON.stringify({ ...vars, ...secrets }) };
    workers.push(await startProcess(NODE, [WORKERD_HOST, '--env', app, '--port', String(port)], { env, port, timeoutMs: 90_000 }));
  };
  try {
    await start('bff', bffPort);
    await start('cdn', cdnPort);
  } catch (error) {
    for (const worker of workers) await worker.stop();
    throw error;
  }
  return {
    runtime,
    bffUrl: `http://127.0.0.1:${bffPort}`,
    cdnUrl,
    output: () => workers.map((w) => w.output()).join('\n'),
    async stop() {
      for (const worker of workers) await worker.stop();
    },
  };
}

async function startProcessWait(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
