import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBffApp } from '../../edge/bff/app.ts';
import { buildBffDeps } from '../../edge/bff/deps.ts';
import { loadBffConfig } from '../../edge/config.ts';
import { createRedisStore } from '../../edge/runtime/redis-store.ts';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { renderRedisConfig } from '../../stack/services/redis.ts';
import { addDirectoryPerson, type DirectoryPerson } from '../helpers/directory-person.ts';
import { freePort } from '../helpers/free-port.ts';
import { killHard, startRedisServer } from '../helpers/private-redis.ts';
import { loginThroughBff, TestBrowser } from '../helpers/keycloak-login.ts';
import { BFF_ORIGIN, LOGIN_TIMEOUT_MS, stackEnv, startCore, type RunningProcess } from './support.ts';

// Issue 9, "sessions survive a Redis crash", at session level: a BFF (in-process, real Keycloak
// login, real core) on a PRIVATE redis-server started from the stack's own redis.conf on a spare
// port and scratch folder; that server is SIGKILLed and restarted. The shared Redis is never touched.
/** Extra redis-server arguments; `['--appendonly', 'no']` turns persistence off and must make this fail. */
const SERVER_OVERRIDES: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'session-redis-crash-'));
const configFile = join(dataDir, 'redis.conf');
const started: ChildProcess[] = [];
let port: number;
let server: ChildProcess;
let core: RunningProcess;
let person: DirectoryPerson | undefined;
let store: ReturnType<typeof createRedisStore> | undefined;

function startServer(): Promise<ChildProcess> {
  return startRedisServer({ configFile, port, extraArgs: SERVER_OVERRIDES, cwd: dataDir, started });
}

beforeAll(async () => {
  port = await freePort();
  writeFileSync(configFile, renderRedisConfig(dataDir, port));
  server = await startServer();
  core = await startCore();
});

afterAll(async () => {
  await store?.close().catch(() => undefined);
  await person?.remove().catch((error) => console.warn('cleanup failed:', error));
  await core?.stop();
  for (const child of started) await killHard(child);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('BFF session across a Redis crash (private redis-server, stack config)', () => {
  test('a session signed in 1.5 s before a SIGKILL of Redis still answers /auth/me and /api after the restart', async () => {
    const config = loadBffConfig({ ...stackEnv, AUTH_RATE_LIMIT: '100000', CORE_URL: core.url });
    store = createRedisStore({ url: `redis://127.0.0.1:${port}` });
    const deps = await buildBffDeps(config, { store, logger: createMemoryLogger('bff') });
    const app = createBffApp(deps);
    const browser = new TestBrowser({ [BFF_ORIGIN]: (request) => app.fetch(request) });

    person = await addDirectoryPerson(stackEnv, { uidPrefix: 'rediscrash', roles: ['prothetic_user'] });
    await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: stackEnv, browser });
    const before = await browser.fetch(`${BFF_ORIGIN}/auth/me`);
    expect(before.status).toBe(200);
    expect(((await before.json()) as { username: string }).username).toBe(person.uid);

    // appendfsync everysec: what was written more than a second ago is on disk.
    await Bun.sleep(1_500);
    await killHard(server);
    server = await startServer();

    // The store's connection comes back on its own; until it has, the BFF may answer 5xx, never 401.
    let me: Response;
    const deadline = Date.now() + 10_000;
    for (;;) {
      me = await browser.fetch(`${BFF_ORIGIN}/auth/me`);
      if (me.status < 500 || Date.now() > deadline) break;
      await Bun.sleep(200);
    }
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe(person.uid);
    const api = await browser.fetch(`${BFF_ORIGIN}/api/reports?limit=1&offset=0`);
    expect(api.status).toBe(200);
    expect(((await api.json()) as { user_id: string }).user_id).toBe(await (await createOwnerRefs(stackEnv.OWNER_REF_KEY!)).of(person.uid));
  }, LOGIN_TIMEOUT_MS);
});
