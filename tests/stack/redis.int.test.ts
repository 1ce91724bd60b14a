import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { parseRedisUrl, pingRedis } from '../../stack/services/redis.ts';

// Runs against the stack's Redis (`node stack/cli.ts up redis`) as its admin ACL user (REDIS_URL);
// every key is unique to this run. What the other users may do: redis-acl.int.test.ts.
const env = loadStackEnv();
const prefix = `stack-test:${randomUUID()}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1, lazyConnect: true });
  return redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('redis (stack)', () => {
  test('answers PING over RESP, the stack readiness probe, and a closed port does not', async () => {
    expect(await redis.ping()).toBe('PONG');
    const { host, port, credentials } = parseRedisUrl(env.REDIS_URL);
    expect(await pingRedis(host, port, 2_000, credentials)).toBe(true);
    expect(await pingRedis('127.0.0.1', 1)).toBe(false);
  });

  test('SET/GET round-trips a value and SET NX refuses to overwrite it', async () => {
    const key = `${prefix}roundtrip`;
    expect(await redis.set(key, 'value ✓')).toBe('OK');
    expect(await redis.get(key)).toBe('value ✓');
    expect(await redis.set(key, 'other', 'NX')).toBeNull();
    expect(await redis.get(key)).toBe('value ✓');
  });

  test('a key set with a TTL expires', async () => {
    const key = `${prefix}expiring`;
    expect(await redis.set(key, 'short-lived', 'PX', 300)).toBe('OK');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await redis.get(key)).toBe('short-lived');
    await Bun.sleep(450);
    expect(await redis.get(key)).toBeNull();
    expect(await redis.exists(key)).toBe(0);
  });

  test('listens on loopback only and refuses to evict keys when full', async () => {
    const bind = (await redis.config('GET', 'bind')) as string[];
    expect(bind[1]).toBe('127.0.0.1');
    const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
    expect(policy[1]).toBe('noeviction');
  });

  test('runs with the committed persistence settings: AOF fsynced every second', async () => {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
  });

  test('REDIS_URL parsing rejects what the stack cannot serve', () => {
    expect(() => parseRedisUrl(undefined)).toThrow('REDIS_URL is not set');
    expect(() => parseRedisUrl('http://127.0.0.1:6379')).toThrow('redis://');
    expect(() => parseRedisUrl('not a url')).toThrow('not a URL');
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(parseRedisUrl('redis://bff:p%40ss@127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, credentials: { user: 'bff', password: 'p@ss' } });
    expect(() => parseRedisUrl('redis://bff@127.0.0.1')).toThrow('without a password');
  });
});
