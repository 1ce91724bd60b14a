import { spawn, type ChildProcess } from 'node:child_process';
import { pingRedis, type RedisCredentials } from '../../stack/services/redis.ts';

/** The redis-server binary the stack runs; tests start private copies of it on spare ports. */
export const REDIS_SERVER = '/usr/bin/redis-server';

export interface PrivateRedisOptions {
  configFile: string;
  port: number;
  /** Extra redis-server arguments after the config file. */
  extraArgs?: string[];
  cwd?: string;
  /** The child is pushed here as soon as it is spawned, so a failed start still gets killed. */
  started: ChildProcess[];
  /** For a config with ACL users (anonymous PING is refused there). */
  credentials?: RedisCredentials;
}

/**
 * Starts a private redis-server from `configFile` and waits until it answers PING on `port`, at
 * most 15 s; throws if it exits first.
 */
export async function startRedisServer({ configFile, port, extraArgs = [], cwd, started, credentials }: PrivateRedisOptions): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, [configFile, ...extraArgs], { cwd, stdio: 'ignore' });
  started.push(child);
  const deadline = Date.now() + 15_000;
  while (!(await pingRedis('127.0.0.1', port, 500, credentials))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 15 s');
    await Bun.sleep(50);
  }
  return child;
}

/** SIGKILLs `child` and resolves once it has exited (at once if it already had). */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
