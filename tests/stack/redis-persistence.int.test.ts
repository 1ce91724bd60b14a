import { afterAll, describe, expect, test } from 'bun:test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { needsAofSwitch, renderRedisConfig, switchOnAof } from '../../stack/services/redis.ts';
import { freePort } from '../helpers/free-port.ts';
import { killHard, startRedisServer } from '../helpers/private-redis.ts';

// A private redis-server with the stack's own configuration (the file stack/services/redis.ts writes
// for the shared Redis) on a spare port and a scratch folder: the shared Redis is never killed.
const dataDir = mkdtempSync(join(tmpdir(), 'redis-persistence-'));
let server: ChildProcess | undefined;
/** Every server this file started: a failing expectation must not leave one running. */
const started: ChildProcess[] = [];

function startServer(port: number, extraArgs: string[] = [], dir = dataDir): Promise<ChildProcess> {
  const configFile = join(dir, 'redis.conf');
  writeFileSync(configFile, renderRedisConfig(dir, port));
  return startRedisServer({ configFile, port, extraArgs, started });
}

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) await killHard(child);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('redis persistence (stack config, private server)', () => {
  test('the config asks for an append-only file fsynced every second', async () => {
    const port = await freePort();
    server = await startServer(port);
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    } finally {
      redis.disconnect();
    }
    await killHard(server);
  });

  test('keys written more than a second before a SIGKILL are there after the restart', async () => {
    const port = await freePort();
    server = await startServer(port);
    const before = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    await before.connect();
    // Shaped like the BFF's data: a session hash with a TTL and a plain key, 200 of each.
    for (let i = 0; i < 200; i++) {
      await before.hset(`session:${i}`, { user: `person-${i}`, tokens: 'x'.repeat(512) });
      await before.expire(`session:${i}`, 36_000);
      await before.set(`pkce:${i}`, `verifier-${i}`, 'EX', 600);
    }
    before.disconnect();
    // appendfsync everysec: the background fsync runs once a second; wait two to be clear of it.
    await Bun.sleep(2_100);
    await killHard(server);

    server = await startServer(port);
    const after = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    await after.connect();
    try {
      expect(await after.dbsize()).toBe(400);
      expect(await after.hget('session:199', 'user')).toBe('person-199');
      expect(await after.get('pkce:0')).toBe('verifier-0');
      const ttl = await after.ttl('session:0');
      expect(ttl).toBeGreaterThan(35_000);
      expect(ttl).toBeLessThanOrEqual(36_000);
    } finally {
      after.disconnect();
    }
  }, 30_000);

  test('a data folder with only an RDB snapshot (made before AOF) keeps its keys when AOF comes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-rdb-to-aof-'));
    try {
      const port = await freePort();
      // The old configuration: snapshots only.
      server = await startServer(port, ['--appendonly', 'no'], dir);
      const old = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
      await old.connect();
      for (let i = 0; i < 50; i++) await old.set(`session:${i}`, `person-${i}`, 'EX', 36_000);
      await old.save();
      old.disconnect();
      await killHard(server);
      expect(needsAofSwitch(dir)).toBe(true);

      // What stack/services/redis.ts start() does for such a folder.
      server = await startServer(port, ['--appendonly', 'no'], dir);
      await switchOnAof('127.0.0.1', port);
      expect(needsAofSwitch(dir)).toBe(false);
      await killHard(server);

      // From now on the committed config alone (AOF on) finds every key, also after a SIGKILL.
      server = await startServer(port, [], dir);
      const after = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
      await after.connect();
      try {
        expect(await after.dbsize()).toBe(50);
        expect(await after.get('session:49')).toBe('person-49');
      } finally {
        after.disconnect();
      }
      await killHard(server);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
