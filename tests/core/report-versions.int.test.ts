import { afterAll, describe, expect, test } from 'bun:test';
import { Redis } from 'ioredis';
import { createRedisReportVersions, userVersionKey } from '../../core/reports/report-versions.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Versions against the real Redis: remembered while subscribed, asked per read while not.
const env = loadStackEnv();
const admin = new Redis(env.REDIS_URL!);
const stamp = crypto.randomUUID().slice(0, 8);
const user = `versions.${stamp}`;

afterAll(async () => {
  await admin.del(userVersionKey(user));
  await admin.quit();
});

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('report versions (Redis)', () => {
  test('a bump on one replica reaches the other by message; a lost subscription falls back to asking Redis', async () => {
    const name = `core-reports-test-${stamp}`;
    const a = createRedisReportVersions({ url: env.REDIS_URL!, name });
    const b = createRedisReportVersions({ url: env.REDIS_URL!, name: `${name}-b` });
    try {
      await until(() => a.isSubscribed() && b.isSubscribed(), 'both subscribed');
      const t0 = await a.current(user);
      expect(t0).toBeDefined();

      await b.bump([user]);
      let t1: string | undefined;
      for (let i = 0; i < 100 && (t1 = await a.current(user)) === t0; i++) await Bun.sleep(10);
      expect(t1).not.toBe(t0);

      // A counter moved without a message (as if it were missed): while subscribed, A keeps what it knows.
      await admin.incr(userVersionKey(user));
      expect(await a.current(user)).toBe(t1);

      // A's subscription drops: nothing is remembered, every read asks Redis and sees the counter.
      const clients = (await admin.client('LIST')) as string;
      const id = /id=(\d+) [^\n]* name=([^ ]+)/g;
      const subscriberId = [...clients.matchAll(id)].find((m) => m[2] === `${name}:sub`)?.[1];
      expect(subscriberId).toBeDefined();
      await admin.client('KILL', 'ID', subscriberId!);
      await until(() => !a.isSubscribed(), 'subscription lost');
      const t2 = await a.current(user);
      expect(t2).not.toBe(t1);

      // Subscribed again (ioredis reconnects): what it remembered before was forgotten.
      await until(() => a.isSubscribed(), 'subscribed again');
      expect(await a.current(user)).toBe(t2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('Redis unreachable: no token (the memory level is skipped) and bump fails naming redis', async () => {
    const down = createRedisReportVersions({ url: 'redis://127.0.0.1:1' });
    try {
      expect(await down.current(user)).toBeUndefined();
      expect(down.isSubscribed()).toBe(false);
      await expect(down.bump([user])).rejects.toMatchObject({ name: 'DependencyUnavailable', dependency: 'redis' });
    } finally {
      await down.close();
    }
  });
});
