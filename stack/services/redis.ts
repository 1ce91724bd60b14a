import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';
import { run, runningPid, sleep, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { systemUser } from '../../tools/kit/user.ts';
import { waitForDaemon } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';

const NAME = 'redis';
const OS_USER = 'redis';
const SERVER = '/usr/bin/redis-server';

/** Host and port from REDIS_URL; only a loopback redis:// URL without credentials is accepted. */
export function parseRedisUrl(url: string | undefined): { host: string; port: number } {
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
  return { host: parsed.hostname, port };
}

/**
 * RESP-level probe: sends PING and accepts only +PONG. A server that demands AUTH answers -NOAUTH,
 * which counts as not ready for this stack (it runs its own password-less loopback instance).
 */
export function pingRedis(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let answer = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) finish(answer === '+PONG\r\n');
    });
  });
}

/** The committed settings both stacks share; compose.yaml mounts the same file. */
export const REDIS_CONFIG_FILE = join(paths.config, 'redis', 'redis.conf');

/** The shared settings plus what only this machine knows: the port and the data folder. */
export function renderRedisConfig(dataDir: string, port: number): string {
  return [
    '# Written by stack/services/redis.ts on every start from stack/config/redis/redis.conf; edit that file.',
    readFileSync(REDIS_CONFIG_FILE, 'utf8').trimEnd(),
    `port ${port}`,
    `dir ${dataDir}`,
    '',
  ].join('\n');
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
export async function switchOnAof(host: string, port: number, timeoutMs = 60_000): Promise<void> {
  const cli = (...args: string[]) => run('/usr/bin/redis-cli', ['-h', host, '-p', String(port), ...args]);
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
  const isReady = async (env: StackEnv) => {
    const { host, port } = parseRedisUrl(env.REDIS_URL);
    return pingRedis(host, port);
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
      const { port } = parseRedisUrl(env.REDIS_URL);
      mkdirSync(dataDir, { recursive: true });
      if (process.getuid?.() === 0) {
        const { uid, gid } = systemUser(OS_USER, 'redis-server');
        chownSync(dataDir, uid, gid);
      }
      const configFile = join(dataDir, 'redis.conf');
      writeFileSync(configFile, renderRedisConfig(dataDir, port), { mode: 0o644 });
      const switchToAof = needsAofSwitch(dataDir);
      // A server we started that is still loading its snapshot only needs waiting for.
      if (runningPid(NAME) === undefined) {
        const { command, args } = serverCommand(configFile);
        startDaemon(NAME, command, switchToAof ? [...args, '--appendonly', 'no'] : args, { cwd: dataDir });
      }
      await waitForDaemon(NAME, () => isReady(env), {
        timeoutMs: 30_000,
        intervalMs: 100,
        exitedMessage: `redis-server exited during start (port ${port} taken?)`,
      });
      if (switchToAof) {
        await switchOnAof('127.0.0.1', port);
        log.step(NAME, 'snapshot loaded and written as the AOF base (append-only persistence now on)');
      }
    },
    async stop() {
      // SIGTERM makes redis-server fsync the AOF and write its RDB snapshot before exiting.
      await stopDaemon(NAME);
    },
  };
}

export const services: StackService[] = [createRedis()];
