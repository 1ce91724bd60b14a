import { afterAll, describe, expect, test } from 'bun:test';
import Redis from 'ioredis';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisReportVersions, userVersionKey } from '../../core/reports/report-versions.ts';
import { edgeRedisUrls } from '../../edge/runtime/apps.ts';
import { createRedisStore } from '../../edge/runtime/redis-store.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { REDIS_ACL_USERS, redisAclLines } from '../../stack/services/redis-acl.ts';
import { parseRedisUrl, pingRedis, renderRedisConfig } from '../../stack/services/redis.ts';
import { freePort } from '../helpers/free-port.ts';
import { killHard, startRedisServer } from '../helpers/private-redis.ts';
import { runStoreContract } from '../edge/store-contract.ts';

/**
 * Issue 9, least privilege: the stack's Redis (as `stack up` configures it) answers nothing before
 * AUTH, and each client's ACL user does its own job with the real client code (the edge store, core's
 * report versions) but cannot touch another client's keys, nor FLUSHALL, CONFIG, KEYS or ACL.
 * FLUSHALL is only ever asked through ACL DRYRUN: a wrong rule must fail this test, not empty the
 * shared Redis.
 */
const env = loadStackEnv();
const run = crypto.randomUUID().slice(0, 8);
const clients: Redis[] = [];
const closers: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  const admin = connect(env.REDIS_URL!);
  const keys = await admin.keys(`*acl-test-${run}*`);
  if (keys.length > 0) await admin.del(...keys);
  for (const close of closers) await close().catch(() => undefined);
  for (const client of clients) client.disconnect();
});

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0, lazyConnect: false, retryStrategy: () => null });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** The error Redis answered, or 'OK' when the command went through. */
async function attempt(command: Promise<unknown>): Promise<string> {
  try {
    await command;
    return 'OK';
  } catch (error) {
    return (error as Error).message.split(' ')[0]!;
  }
}

/**
 * Commands over a bare socket, no client library: ioredis gives up on a connection whose ready
 * check was refused, and an anonymous connection is exactly what is under test. Returns the first
 * line of each reply.
 */
function rawRedis(port: number, commands: string[][]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(port, '127.0.0.1');
    let received = '';
    socket.setTimeout(3000, () => reject(new Error(`no answer; got ${JSON.stringify(received)}`)));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(commands.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('')));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const lines = received.split('\r\n').filter((line) => /^[-+:]/.test(line));
      if (lines.length >= commands.length) {
        socket.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
  });
}

const url = (name: string) => env[REDIS_ACL_USERS.find((user) => user.name === name)!.urlVariable]!;

describe('the stack Redis refuses anonymous clients', () => {
  test('PING without AUTH answers NOAUTH; the readiness probe passes only with the admin credentials', async () => {
    const { host, port, credentials } = parseRedisUrl(env.REDIS_URL);
    expect(credentials?.user).toBe('default');
    const answers = await rawRedis(port, [['PING'], ['GET', storeKeys.session('x')], ['FLUSHALL'], ['CONFIG', 'GET', 'requirepass']]);
    expect(answers.map((answer) => answer.split(' ')[0])).toEqual(['-NOAUTH', '-NOAUTH', '-NOAUTH', '-NOAUTH']);
    expect(await pingRedis(host, port)).toBe(false);
    expect(await pingRedis(host, port, 2_000, credentials)).toBe(true);
    expect(await pingRedis(host, port, 2_000, { user: 'default', password: 'wrong' })).toBe(false);
  });

  test('a wrong password and the default user are refused', async () => {
    const { host, port } = parseRedisUrl(env.REDIS_URL);
    const answers = await rawRedis(port, [['AUTH', 'bff', 'wrong'], ['AUTH', 'default', ''], ['AUTH', 'nobody'], ['PING']]);
    expect(answers.map((answer) => answer.split(' ')[0])).toEqual(['-WRONGPASS', '-WRONGPASS', '-WRONGPASS', '-NOAUTH']);
    // Exactly the users of stack/services/redis-acl.ts, none left over, none without a password.
    const admin = connect(env.REDIS_URL!);
    expect(((await admin.call('ACL', 'USERS')) as string[]).sort()).toEqual(REDIS_ACL_USERS.map((user) => user.name).sort());
    for (const line of (await admin.call('ACL', 'LIST')) as string[]) expect(line).not.toMatch(/\bnopass\b/);
  });
});

describe('each service user does its own job', () => {
  // The BFF's whole store contract, as the BFF user, on keys of its own (sessions).
  runStoreContract('Redis as the BFF ACL user', () => {
    const store = createRedisStore({ url: url('bff') });
    closers.push(() => store.close());
    return { store, advance: (seconds) => Bun.sleep(seconds * 1000) };
  }, `edge:session:acl-test-${run}:`);

  test('BFF: sessions, their indexes, login attempts, rate windows, the readiness key', async () => {
    const store = createRedisStore({ url: url('bff') });
    closers.push(() => store.close());
    await store.set(storeKeys.session(`acl-test-${run}`), 'session', 60);
    expect(await store.get(storeKeys.session(`acl-test-${run}`))).toBe('session');
    await store.addMember(storeKeys.userSessions(`acl-test-${run}`), 's1', 60);
    expect(await store.members(storeKeys.userSessions(`acl-test-${run}`))).toEqual(['s1']);
    expect(await store.setIfAbsent(storeKeys.loginAttempt(`acl-test-${run}`), 'verifier', 60)).toBe(true);
    expect(await store.take(storeKeys.loginAttempt(`acl-test-${run}`))).toBe('verifier');
    expect(await store.increment(storeKeys.rateLimit('api', `acl-test-${run}`, 1), 60)).toBe(1);
    expect(await store.get(storeKeys.readinessProbe())).toBeNull();
  });

  test('CDN: purge nonces and purge marks, the readiness key', async () => {
    const store = createRedisStore({ url: url('cdn') });
    closers.push(() => store.close());
    const nonce = storeKeys.cdnPurgeNonce(`acl-test-${run}`);
    expect(await store.setIfAbsent(nonce, '1', 60)).toBe(true);
    expect(await store.setIfAbsent(nonce, '1', 60)).toBe(false);
    expect(typeof ((await store.get(storeKeys.cdnPurges())) ?? '')).toBe('string');
    expect(await store.get(storeKeys.readinessProbe())).toBeNull();
  });

  test('core: report versions bump, read and reach another replica by pub/sub', async () => {
    const name = `acl-test-${run}`;
    const a = createRedisReportVersions({ url: url('core'), name });
    const b = createRedisReportVersions({ url: url('core'), name: `${name}-b` });
    closers.push(() => a.close(), () => b.close());
    for (let i = 0; i < 100 && !(a.isSubscribed() && b.isSubscribed()); i++) await Bun.sleep(20);
    expect([a.isSubscribed(), b.isSubscribed()]).toEqual([true, true]);
    const user = `acl-test-${run}-user`;
    const before = await b.current(user);
    expect(before).toBeDefined();
    await a.bump([user]);
    // b learns it by message (it remembered `before` while subscribed) and asks Redis again.
    for (let i = 0; i < 100 && (await b.current(user)) === before; i++) await Bun.sleep(20);
    expect(await b.current(user)).not.toBe(before);
    const admin = connect(env.REDIS_URL!);
    expect(Number(await admin.get(userVersionKey(user)))).toBe(1);
  });
});

describe("no service user reaches another's keys or the server's controls", () => {
  const sessionKey = storeKeys.session(`acl-test-${run}-secret`);
  const nonceKey = storeKeys.cdnPurgeNonce(`acl-test-${run}-secret`);
  const versionKey = userVersionKey(`acl-test-${run}-secret`);

  test('the CDN user cannot read or write BFF sessions; the BFF user cannot touch purge nonces; core neither', async () => {
    const admin = connect(env.REDIS_URL!);
    await admin.set(sessionKey, 'encrypted-session', 'EX', 60);
    await admin.set(nonceKey, '1', 'EX', 60);
    const [bff, cdn, core] = [connect(url('bff')), connect(url('cdn')), connect(url('core'))];
    expect(await attempt(cdn.get(sessionKey))).toBe('NOPERM');
    expect(await attempt(cdn.set(sessionKey, 'forged'))).toBe('NOPERM');
    expect(await attempt(cdn.smembers(storeKeys.userSessions('someone')))).toBe('NOPERM');
    expect(await attempt(bff.get(nonceKey))).toBe('NOPERM');
    expect(await attempt(bff.del(nonceKey))).toBe('NOPERM');
    expect(await attempt(bff.mget(versionKey))).toBe('NOPERM');
    expect(await attempt(core.mget(sessionKey))).toBe('NOPERM');
    expect(await attempt(core.incr(nonceKey))).toBe('NOPERM');
    // A script runs as its caller: Lua cannot reach past the key rules either.
    expect(await attempt(cdn.eval("return redis.call('GET', KEYS[1])", 1, sessionKey))).toBe('NOPERM');
    expect(await attempt(cdn.eval(`return redis.call('GET', '${sessionKey}')`, 1, nonceKey))).toMatch(/NOPERM|ERR/);
    expect(await admin.get(sessionKey)).toBe('encrypted-session');
    // Channels: only core may publish or listen on the invalidation channel.
    expect(await attempt(bff.publish('core:reports:invalidate', '*'))).toBe('NOPERM');
  });

  test('only the admin (default, password-protected) may FLUSHALL, CONFIG, KEYS, ACL, DEBUG or SHUTDOWN', async () => {
    const admin = connect(env.REDIS_URL!);
    for (const command of [['FLUSHALL'], ['FLUSHDB'], ['CONFIG', 'SET', 'appendonly', 'no'], ['SHUTDOWN'], ['DEBUG', 'SLEEP', '0'], ['ACL', 'SETUSER', 'x']]) {
      for (const user of ['bff', 'cdn', 'core']) {
        const answer = await admin.call('ACL', 'DRYRUN', user, ...command).then(String, (error: Error) => error.message);
        expect({ user, command: command.join(' '), allowed: answer === 'OK' }).toEqual({ user, command: command.join(' '), allowed: false });
      }
      expect(await admin.call('ACL', 'DRYRUN', 'default', ...command)).toBe('OK');
    }
    for (const user of ['bff', 'cdn', 'core']) {
      const client = connect(url(user));
      expect({ user, config: await attempt(client.config('GET', 'requirepass')) }).toEqual({ user, config: 'NOPERM' });
      expect({ user, keys: await attempt(client.keys('*')) }).toEqual({ user, keys: 'NOPERM' });
      expect({ user, acl: await attempt(client.call('ACL', 'LIST')) }).toEqual({ user, acl: 'NOPERM' });
    }
    expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
  });

  test('the edge server config takes each app its own URL and names what is missing', () => {
    expect(edgeRedisUrls({ BFF_REDIS_URL: url('bff'), CDN_REDIS_URL: url('cdn'), REDIS_URL: '' }, ['bff', 'cdn'])).toEqual({ bff: url('bff'), cdn: url('cdn') });
    expect(() => edgeRedisUrls({ BFF_REDIS_URL: url('bff'), REDIS_URL: '' }, ['bff', 'cdn'])).toThrow(/CDN_REDIS_URL/);
    expect(() => edgeRedisUrls({ BFF_REDIS_URL: 'redis://bff@127.0.0.1:6379' }, ['bff'])).toThrow(/BFF_REDIS_URL: names a user without a password/);
    expect(edgeRedisUrls({ REDIS_URL: 'redis://127.0.0.1:6379' }, ['bff'])).toMatchObject({ bff: 'redis://127.0.0.1:6379' });
  });
});

describe('ACL users and persistence together (private redis-server, stack config with the users)', () => {
  // Redis 7.0 replays the AOF's MULTI/EXEC blocks (every script's and transaction's writes) as the
  // `default` user: with `default off -@all` (the first version of these rules) each was refused at
  // load and a SIGKILL cost the session index sets, rate windows and version counters.
  const dataDir = mkdtempSync(join(tmpdir(), 'redis-acl-crash-'));
  const started: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of started) await killHard(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('scripted and transactional writes of the BFF and core users survive a SIGKILL', async () => {
    const port = await freePort();
    const configFile = join(dataDir, 'redis.conf');
    writeFileSync(configFile, renderRedisConfig(dataDir, port, redisAclLines(env)));
    const urlOn = (name: string) => url(name).replace(/:\d+$/, `:${port}`);
    const admin = parseRedisUrl(env.REDIS_URL!.replace(/:\d+$/, `:${port}`)).credentials;
    const startServer = () => startRedisServer({ configFile, port, cwd: dataDir, started, credentials: admin });
    let server = await startServer();

    const bff = createRedisStore({ url: urlOn('bff') });
    const versions = createRedisReportVersions({ url: urlOn('core'), name: 'acl-crash', check: 'per-request' });
    const user = storeKeys.userSessions('crash-test');
    await bff.set(storeKeys.session('crash-test'), 'session', 600);
    await bff.addMember(user, 's1', 600); // a Lua script: MULTI/EXEC in the AOF
    await bff.addMember(user, 's2', 600);
    expect(await bff.increment(storeKeys.rateLimit('api', 'crash-test', 1), 600)).toBe(1); // script
    await versions.bump(['crash-user']); // MULTI INCR EXPIRE PUBLISH EXEC
    const token = await versions.current('crash-user');
    await bff.close();
    await versions.close();

    await Bun.sleep(1_500); // appendfsync everysec
    await killHard(server);
    server = await startServer();

    const after = createRedisStore({ url: urlOn('bff') });
    closers.push(() => after.close());
    expect(await after.get(storeKeys.session('crash-test'))).toBe('session');
    expect((await after.members(user)).sort()).toEqual(['s1', 's2']);
    expect(await after.increment(storeKeys.rateLimit('api', 'crash-test', 1), 600)).toBe(2);
    // The version counter the transaction wrote, read back as core reads it (MGET of both counters).
    const core = connect(urlOn('core'));
    expect(await core.mget('core:reports:version:*', userVersionKey('crash-user'))).toEqual([null, '1']);
    expect(token).toBe('0:1');
    // The server ran with the users: anonymous is refused there too.
    expect(readFileSync(configFile, 'utf8')).toContain('user bff on');
    expect(await pingRedis('127.0.0.1', port, 1_000)).toBe(false);
  }, 60_000);
});
