import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createBffApp } from '../../edge/bff/app.ts';
import type { BffDeps } from '../../edge/bff/context.ts';
import { buildBffDeps, type BffRuntime } from '../../edge/bff/deps.ts';
import { parseSessionToken } from '../../edge/bff/session/session-token.ts';
import { loadBffConfig } from '../../edge/config.ts';
import { createRedisStore } from '../../edge/runtime/redis-store.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import { freePort } from '../helpers/free-port.ts';
import { loginThroughBff, TestBrowser } from '../helpers/keycloak-login.ts';

/** Shared fixtures of the edge tests: the stack's settings, an in-process BFF on real Redis and Keycloak, core as a process. */
export const stackEnv = loadStackEnv();

/** Demo people the edge tests sign in as: a prosthesis owner, an administrator, a plain user. */
export const OWNER = 'lena.schmidt';
export const ADMIN = 'emma.jansen';
export const PLAIN_USER = 'jan.kowalski';

export const BFF_ORIGIN = new URL(stackEnv.BFF_PUBLIC_URL!).origin;
export const APP_ORIGIN = new URL(stackEnv.FRONTEND_URL!).origin;

export interface TestBff {
  app: ReturnType<typeof createBffApp>;
  deps: BffDeps;
  logs: ReturnType<typeof createMemoryLogger>['lines'];
  /** A browser whose requests to BFF_PUBLIC_URL reach this app in-process. */
  browser(): TestBrowser;
  /** Deletes every session this BFF created, and closes its Redis connection. */
  close(): Promise<void>;
}

/** A BFF built in the test, with real Redis and Keycloak; `env` overrides the stack settings. */
export async function createTestBff(options: { env?: Record<string, string>; runtime?: Partial<BffRuntime> } = {}): Promise<TestBff> {
  const config = loadBffConfig({ ...stackEnv, AUTH_RATE_LIMIT: '100000', CORE_URL: stackEnv.CORE_URL!, ...options.env });
  const store = createRedisStore({ url: stackEnv.REDIS_URL! });
  const logger = createMemoryLogger('bff');
  const deps = await buildBffDeps(config, { store, logger, ...options.runtime });
  const app = createBffApp(deps);
  const browsers: TestBrowser[] = [];
  return {
    app,
    deps,
    logs: logger.lines,
    browser() {
      const browser = new TestBrowser({ [BFF_ORIGIN]: (request) => app.fetch(request) });
      browsers.push(browser);
      return browser;
    },
    async close() {
      for (const browser of browsers) {
        for (const name of ['bff_session', '__Host-bff_session']) {
          const token = parseSessionToken(browser.cookie(BFF_ORIGIN, name));
          if (token) await store.delete(storeKeys.session(token.id));
        }
      }
      await store.close();
    },
  };
}

export interface RunningProcess {
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a process and waits until `healthPath` answers 200 on the given port. */
export async function startProcess(command: string, args: string[], options: { env: Record<string, string | undefined>; port: number; healthPath?: string; timeoutMs?: number }): Promise<RunningProcess> {
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The whole process group: wrangler runs workerd as a child.
    process.kill(-child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${url}${options.healthPath ?? '/health/live'}`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${args.join(' ')} did not answer within ${options.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return { url, port: options.port, output: () => output, stop };
}

export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
export const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
export const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

/** Core (reports service) on a free port, for the /api proxy; `env` overrides (e.g. its CDN_URL). */
export async function startCore(env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess(NODE, ['core/serve-node.ts'], { env: { ...process.env, ...stackEnv, PORT: String(port), LOG_LEVEL: 'warn', ...env }, port });
}

/** Every string that could be a token in a response: the check that none reaches the browser. */
export function findTokenLeaks(text: string): string[] {
  // Compact JWS (header.payload.signature, base64url); Keycloak's refresh tokens are JWTs as well.
  return text.match(/eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g) ?? [];
}

const keycloakSessions = new Map<string, Promise<TestBrowser>>();

/**
 * A browser holding a Keycloak SSO session of `username`, from one full login (password + TOTP) per
 * test process; copy its Keycloak cookies into a fresh browser to sign in without forms or codes.
 */
export function keycloakSessionOf(username: string, bff: TestBff): Promise<TestBrowser> {
  let session = keycloakSessions.get(username);
  if (!session) {
    session = (async () => {
      const browser = bff.browser();
      await loginThroughBff({ bffUrl: BFF_ORIGIN, username, env: stackEnv, browser });
      return browser;
    })();
    keycloakSessions.set(username, session);
  }
  return session;
}

/** A fresh BFF browser signed in as `username` (reusing the Keycloak SSO session). */
export async function signedInBrowser(bff: TestBff, username: string): Promise<TestBrowser> {
  const browser = bff.browser();
  browser.copyCookiesFrom(await keycloakSessionOf(username, bff), stackEnv.KEYCLOAK_URL!);
  await loginThroughBff({ bffUrl: BFF_ORIGIN, username, env: stackEnv, browser });
  return browser;
}

/** A full login may wait up to one TOTP period for a code Keycloak has not seen yet. */
export const LOGIN_TIMEOUT_MS = 120_000;
