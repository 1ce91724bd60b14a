import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, runningPid, sleep, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { systemUser } from '../../tools/kit/user.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import { redisAclLines } from './redis-acl.ts';
import type { StackService } from './service.ts';

const NAME = 'redis';
const OS_USER = 'redis';
const SERVER = '/usr/bin/redis-server';

export interface RedisCredentials {
  user: string;
  password: string;
}

/** Host, port and (when the URL names a user) credentials from REDIS_URL; only redis:// is accepted. */
export function parseRedisUrl(url: string | undefined): { host: string; port: number; credentials?: RedisCredentials } {
  if (!url) throw new Error('REDIS_URL is not set');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a URL: ${url}`);
  }
  if (parsed.protocol !== 'redis:') throw new Error(`REDIS_URL must use redis://, got ${parsed.protocol}`);
  const port = Number(parsed.port || 6379);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`REDIS_URL has a bad port: ${url}`);
  if (parsed.username && !parsed.password) throw new Error('REDIS_URL names a user without a password');
  const credentials = parsed.username ? { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
  return { host: parsed.hostname, port, ...(credentials ? { credentials } : {}) };
}

/** A RESP array of bulk strings (what redis-cli would send). */
function respCommand(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/**
 * RESP-level probe: sends PING (after AUTH when credentials are given) and accepts only +PONG. A
 * server that demands AUTH answers -NOAUTH, a wrong password -WRONGPASS: both count as not ready.
 */
export function pingRedis(host: string, port: number, timeoutMs = 2_000, credentials?: RedisCredentials): Promise<boolean> {
  const expected = credentials ? '+OK\r\n+PONG\r\n' : '+PONG\r\n';
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let answer = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write((credentials ? respCommand('AUTH', credentials.user, credentials.password) : '') + respCommand('PING')));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const lines = answer.split('\r\n').length - 1;
      if (lines >= (credentials ? 2 : 1) || answer.startsWith('-')) finish(answer === expected);
    });
  });
}

/**
 * The first line of the server's answer to AUTH (`+OK`, `-WRONGPASS …`), or '' when it did not
 * answer: tells a changed admin password apart from a server that is down.
 */
export function redisAuthAnswer(host: string, port: number, credentials: RedisCredentials, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let answer = '';
    const finish = (line: string) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(timeoutMs, () => finish(''));
    socket.on('error', () => finish(''));
    socket.on('connect', () => socket.write(respCommand('AUTH', credentials.user, credentials.password)));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) finish(answer.slice(0, answer.indexOf('\r\n')));
    });
  });
}

/** Throws a clear error unless the admin credentials of REDIS_URL still sign in on the server. */
export async function assertRedisAdmin(host: string, port: number, credentials: RedisCredentials): Promise<void> {
  const answer = await redisAuthAnswer(host, port, credentials);
  if (answer === '+OK') return;
  if (answer.startsWith('-WRONGPASS')) {
    throw new Error(
      `redis: the server on ${host}:${port} refuses ${credentials.user}'s password: REDIS_ADMIN_PASSWORD (.stack/stack.env or the environment) ` +
        'no longer matches the one it was started with. Restore the old value, or restart it (`node stack/cli.ts restart redis`) so it loads the current ACL file.',
    );
  }
  throw new Error(`redis: AUTH as ${credentials.user} on ${host}:${port} answered ${answer ? answer.slice(0, 200) : 'nothing (is it running?)'}`);
}

/**
 * Provisioning, every `up` and `provision`: the running server's users are made exactly the current
 * rules (redis-acl.ts), signed in as the admin, so a rule or password changed since it started is
 * applied and a user the rules no longer name is deleted, without a restart. Idempotent.
 */
export async function reconcileRedisAcl(env: StackEnv): Promise<void> {
  const { host, port, credentials } = parseRedisUrl(env.REDIS_URL);
  if (!credentials) throw new Error('redis: REDIS_URL names no user; the ACL users are applied as the admin (default) only');
  await assertRedisAdmin(host, port, credentials);
  await applyRedisAcl(host, port, redisAclLines(env), credentials);
}

/** The committed settings both stacks share; compose.yaml mounts the same file. */
export const REDIS_CONFIG_FILE = join(paths.config, 'redis', 'redis.conf');

/**
 * The shared settings plus what only this machine knows: the port, the data folder and the ACL
 * users with this machine's password hashes (stack/services/redis-acl.ts redisAclLines). Without
 * ACL lines (the tests' private servers) the default user stays password-less.
 */
export function renderRedisConfig(dataDir: string, port: number, aclLines: readonly string[] = []): string {
  return [
    '# Written by stack/services/redis.ts on every start from stack/config/redis/redis.conf; edit that file.',
    readFileSync(REDIS_CONFIG_FILE, 'utf8').trimEnd(),
    `port ${port}`,
    `dir ${dataDir}`,
    ...aclLines,
    '',
  ].join('\n');
}

function redisCli(host: string, port: number, credentials: RedisCredentials | undefined, args: string[]) {
  // The password goes through the environment (REDISCLI_AUTH), never the command line.
  const auth = credentials ? ['--user', credentials.user] : [];
  return run('/usr/bin/redis-cli', ['-h', host, '-p', String(port), ...auth, ...args], credentials ? { env: { REDISCLI_AUTH: credentials.password } } : {});
}

/**
 * A server started before the ACL users existed (or with other rules) is brought in line without a
 * restart: every user is (re)defined with ACL SETUSER, `default` last, since giving it a password
 * ends the password-less access this very call may be using; users the rules do not name are
 * deleted. Each rule line is what the config file holds, so the running server and its next start
 * agree.
 */
export async function applyRedisAcl(host: string, port: number, aclLines: readonly string[], credentials?: RedisCredentials): Promise<void> {
  const rules = aclLines.map((line) => line.split(' ').slice(1));
  const names = new Set(rules.map(([name]) => name!));
  const existing = (await redisCli(host, port, credentials, ['ACL', 'USERS'])).stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  // Not the user this call is signed in as: the calls after it would fail.
  for (const name of existing.filter((user) => !names.has(user) && user !== credentials?.user)) await redisCli(host, port, credentials, ['ACL', 'DELUSER', name]);
  const ordered = [...rules.filter(([name]) => name !== 'default'), ...rules.filter(([name]) => name === 'default')];
  for (const [name, ...rest] of ordered) {
    const { stdout } = await redisCli(host, port, credentials, ['ACL', 'SETUSER', name!, 'reset', ...rest]);
    if (stdout.trim() !== 'OK') throw new Error(`redis: ACL SETUSER ${name} answered ${stdout.trim().slice(0, 200)}`);
  }
}

/**
 * Redis started with `appendonly yes` and no AOF yet starts EMPTY and ignores dump.rdb (checked with
 * 7.0.15). A data folder holding only a snapshot, from before AOF was configured, must therefore be
 * started with AOF off, so it loads the snapshot, and then switch AOF on while running.
 */
export function needsAofSwitch(dataDir: string): boolean {
  return existsSync(join(dataDir, 'dump.rdb')) && !existsSync(join(dataDir, 'appendonlydir'));
}

/** CONFIG SET appendonly yes writes the loaded dataset as the AOF base; waits until that rewrite is done. */
export async function switchOnAof(host: string, port: number, timeoutMs = 60_000, credentials?: RedisCredentials): Promise<void> {
  const cli = (...args: string[]) => redisCli(host, port, credentials, args);
  const { stdout } = await cli('CONFIG', 'SET', 'appendonly', 'yes');
  if (stdout.trim() !== 'OK') throw new Error(`redis: CONFIG SET appendonly yes answered ${stdout.trim()}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await cli('INFO', 'persistence')).stdout;
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
    if (field('aof_enabled') === '1' && field('aof_rewrite_in_progress') === '0' && field('aof_rewrite_scheduled') === '0') {
      if (field('aof_last_bgrewrite_status') !== 'ok') throw new Error('redis: writing the AOF base from the snapshot failed; see the redis log');
      return;
    }
    if (Date.now() > deadline) throw new Error('redis: the AOF base was not written in time');
    await sleep(100);
  }
}

/** When the stack runs as root, redis-server drops to the package's system user (setpriv execs, so the pid stays the server's). */
function serverCommand(configFile: string): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command: SERVER, args: [configFile] };
  return { command: 'setpriv', args: [`--reuid=${OS_USER}`, `--regid=${OS_USER}`, '--init-groups', SERVER, configFile] };
}

function createRedis(): StackService {
  const dataDir = paths.data(NAME);
  // Ready means configured too: a server still answering without AUTH (started before the ACL users
  // existed) is not, so `up` runs start() and brings its users in line.
  const isReady = async (env: StackEnv) => {
    const { host, port, credentials } = parseRedisUrl(env.REDIS_URL);
    if (!(await pingRedis(host, port, 2_000, credentials))) return false;
    return !credentials || !(await pingRedis(host, port, 2_000));
  };
  return {
    name: NAME,
    ports: [6379],
    version: 'Redis 7.0 (Debian redis-server)',
    async install() {
      await ensureDebPackages(NAME, ['redis-server']);
    },
    isReady,
    async start(env) {
      const { port, credentials } = parseRedisUrl(env.REDIS_URL);
      const aclLines = redisAclLines(env);
      mkdirSync(dataDir, { recursive: true });
      if (process.getuid?.() === 0) {
        const { uid, gid } = systemUser(OS_USER, 'redis-server');
        chownSync(dataDir, uid, gid);
      }
      const configFile = join(dataDir, 'redis.conf');
      // Password hashes only (no clear passwords), but still nobody else's business: owner-only.
      writeFileSync(configFile, renderRedisConfig(dataDir, port, aclLines), { mode: 0o600 });
      chmodSync(configFile, 0o600);
      if (process.getuid?.() === 0) {
        const { uid, gid } = systemUser(OS_USER, 'redis-server');
        chownSync(configFile, uid, gid);
      }
      const switchToAof = needsAofSwitch(dataDir);
      // A server we started that is still loading its snapshot only needs waiting for; one started
      // before the ACL users existed answers PING without AUTH and gets them now.
      const running = runningPid(NAME) !== undefined;
      if (running && (await pingRedis('127.0.0.1', port, 2_000))) {
        await applyRedisAcl('127.0.0.1', port, aclLines);
        log.step(NAME, 'ACL users applied to the running server (nothing answers before AUTH now)');
      } else if (running && credentials) {
        // Not ready with the admin's credentials: a changed password is named now, not after a 30 s wait.
        const answer = await redisAuthAnswer('127.0.0.1', port, credentials);
        if (answer.startsWith('-WRONGPASS')) await assertRedisAdmin('127.0.0.1', port, credentials);
      }
      if (!running) {
        const { command, args } = serverCommand(configFile);
        startDaemon(NAME, command, switchToAof ? [...args, '--appendonly', 'no'] : args, { cwd: dataDir });
      }
      await waitForDaemon(NAME, () => isReady(env), {
        timeoutMs: 30_000,
        intervalMs: 100,
        exitedMessage: `redis-server exited during start (port ${port} taken?)`,
      });
      if (switchToAof) {
        await switchOnAof('127.0.0.1', port, 60_000, credentials);
        log.step(NAME, 'snapshot loaded and written as the AOF base (append-only persistence now on)');
      }
    },
    async provision(env) {
      await reconcileRedisAcl(env);
      log.step(NAME, `ACL users reconciled (${redisAclLines(env).length} users, no others)`);
    },
    async stop() {
      // SIGTERM makes redis-server fsync the AOF and write its RDB snapshot before exiting.
      await stopDaemon(NAME);
    },
  };
}

export const services: StackService[] = [createRedis()];
