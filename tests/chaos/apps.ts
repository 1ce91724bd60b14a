import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { StackEnv } from '../../stack/lib/env.ts';
import { clickHouseIdentity } from '../../stack/dev.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import { signalGroup } from '../../tools/kit/proc.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * The project's apps (core, jobs, edge) as child processes the suite can SIGKILL and start again on
 * the same ports. Ports are free ones (the shared machine's 8000–8081 may be taken by someone's
 * `npm run dev`): the BFF keeps BFF_PUBLIC_URL as its public address — Keycloak only redirects
 * there — and the suite's browser forwards that origin to the BFF's real port (see sessions.ts).
 * Each app leads its own process group, so a kill takes its workers along. Logs are appended to
 * artifacts/chaos/logs/<app>.log.
 */

export type AppName = 'core' | 'jobs' | 'edge';

export const LOG_DIR = join(ROOT, 'artifacts', 'chaos', 'logs');
const RUNTIME_BIN = (runtime: 'node' | 'bun') => join(ROOT, 'node_modules', '.bin', runtime);

export interface AppProcess {
  name: AppName;
  pid(): number | undefined;
  /** Every port the app listens on, main one first. */
  ports: number[];
  url: string;
  start(): Promise<number>;
  /** SIGKILL to the group; resolves once the process has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  isRunning(): boolean;
}

export interface AppSet {
  core: AppProcess;
  jobs: AppProcess;
  edge: AppProcess;
  /** The BFF's real address (its public one, BFF_PUBLIC_URL, is forwarded here). */
  bffUrl: string;
  cdnUrl: string;
  all(): AppProcess[];
  stopAll(): Promise<void>;
}

interface AppSpec {
  name: AppName;
  entry: string;
  env: Record<string, string | undefined>;
  ports: number[];
  healthUrl: string;
}

function createApp(spec: AppSpec, runtime: 'node' | 'bun'): AppProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const app: AppProcess = {
    name: spec.name,
    ports: spec.ports,
    url: `http://127.0.0.1:${spec.ports[0]}`,
    pid: () => (running() ? child!.pid : undefined),
    isRunning: running,
    async start() {
      if (running()) throw new Error(`${spec.name} is already running (pid ${child!.pid})`);
      mkdirSync(LOG_DIR, { recursive: true });
      const log = openSync(join(LOG_DIR, `${spec.name}.log`), 'a');
      try {
        child = spawn(RUNTIME_BIN(runtime), [spec.entry], { cwd: ROOT, env: spec.env, stdio: ['ignore', log, log], detached: true });
      } finally {
        closeSync(log);
      }
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      const started = Date.now();
      for (;;) {
        if (!running()) throw new Error(`${spec.name} exited during start; see ${join(LOG_DIR, `${spec.name}.log`)}`);
        if (Date.now() - started > 60_000) throw new Error(`${spec.name} did not answer ${spec.healthUrl} within 60 s`);
        try {
          const response = await fetch(spec.healthUrl, { signal: AbortSignal.timeout(1_000) });
          await response.arrayBuffer();
          if (response.status === 200) return Date.now() - started;
        } catch {
          /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      if (!running()) return;
      signalGroup(child!.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (!running()) return;
      signalGroup(child!.pid!, 'SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 5_000))]);
      if (timedOut) {
        signalGroup(child!.pid!, 'SIGKILL');
        await exited;
      }
    },
  };
  return app;
}


/**
 * Builds (does not start) core, jobs and edge with the stack's settings. Jobs runs the CDC consumer
 * in a consumer group of its own (so a developer's `npm run dev` keeps its offsets) and no scheduler:
 * the suite runs the ETL itself when it checks the mart.
 */
export async function defineApps(env: StackEnv, options: { runtime?: 'node' | 'bun'; cdcGroup?: string } = {}): Promise<AppSet> {
  const runtime = options.runtime ?? 'node';
  const [corePort, jobsPort, bffPort, cdnPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const coreUrl = `http://127.0.0.1:${corePort}`;
  const base = { ...process.env, ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const file = (name: string) => (runtime === 'node' ? `${name}/serve-node.ts` : `${name}/serve-bun.ts`);
  const core = createApp(
    { name: 'core', entry: file('core'), ports: [corePort], healthUrl: `${coreUrl}/health/live`, env: { ...base, ...clickHouseIdentity('core', env), PORT: String(corePort) } },
    runtime,
  );
  const jobs = createApp(
    {
      name: 'jobs',
      entry: file('jobs'),
      ports: [jobsPort],
      healthUrl: `http://127.0.0.1:${jobsPort}/health/live`,
      env: {
        ...base,
        ...clickHouseIdentity('jobs', env),
        PORT: String(jobsPort),
        CORE_URL: coreUrl,
        SCHEDULER_ENABLED: 'false',
        // jobs' Kafka ACLs allow only groups named reports-cdc* (stack/services/kafka-acls.ts).
        CDC_CONSUMER_GROUP: options.cdcGroup ?? 'reports-cdc-chaos',
      },
    },
    runtime,
  );
  const edge = createApp(
    {
      name: 'edge',
      entry: runtime === 'node' ? 'edge/runtime/node.ts' : 'edge/runtime/bun.ts',
      ports: [bffPort, cdnPort],
      healthUrl: `http://127.0.0.1:${bffPort}/health/live`,
      env: {
        ...base,
        BFF_PORT: String(bffPort),
        CDN_PORT: String(cdnPort),
        CORE_URL: coreUrl,
        // Every session of the suite signs in from 127.0.0.1; the per-address /auth budget is a person's.
        AUTH_RATE_LIMIT: '100000',
      },
    },
    runtime,
  );
  const all = () => [core, jobs, edge];
  return {
    core,
    jobs,
    edge,
    bffUrl: `http://127.0.0.1:${bffPort}`,
    cdnUrl: `http://127.0.0.1:${cdnPort}`,
    all,
    async stopAll() {
      for (const app of all().reverse()) await app.stop();
    },
  };
}
