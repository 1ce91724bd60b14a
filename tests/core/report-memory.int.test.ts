import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createCoreHarness, createMartSeeder, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

/**
 * The memory level over the real stack: two core replicas share Redis (versions, pub/sub) and S3;
 * a third reaches S3 through a proxy the test can cut; a fourth has no Redis at all.
 */
let replicaA: CoreHarness;
let replicaB: CoreHarness;
let seeder: ReturnType<typeof createMartSeeder>;
let person: TestPerson;
/** The person's report owner ref: the mart's and S3's owner key (core/reports/owners.ts). */
let ownerRef: string;
let serviceToken: string;

beforeAll(async () => {
  replicaA = createCoreHarness();
  replicaB = createCoreHarness();
  seeder = createMartSeeder(replicaA.env);
  [person, serviceToken] = await Promise.all([createTestPerson(replicaA.env, ['prothetic_user'], 'memory'), serviceAccountToken(replicaA.env)]);
  ownerRef = await replicaA.deps.owners.refOf(person.uid);
  await seeder.insert([
    { user_id: ownerRef, hour: '2026-11-10 09:00:00', movements: 40, successful_movements: 30 },
    { user_id: ownerRef, hour: '2026-11-11 09:00:00', movements: 20, successful_movements: 20 },
    { user_id: ownerRef, hour: '2026-11-12 09:00:00', movements: 5, successful_movements: 5 },
  ]);
  // Both replicas are subscribed before anything is cached.
  for (let i = 0; i < 100 && !(replicaA.deps.reportVersions.isSubscribed() && replicaB.deps.reportVersions.isSubscribed()); i++) await Bun.sleep(20);
}, 120_000);

afterAll(async () => {
  if (person) await replicaA.deps.reportCache.invalidate([ownerRef]).catch(() => undefined);
  await seeder?.cleanup();
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await Promise.all([replicaA, replicaB].filter(Boolean).map((h) => h.close()));
});

function cacheOutcome(harness: CoreHarness, path: string): unknown {
  return harness.logger.lines.filter((line) => line.event === 'http.request' && line.path === path).at(-1)?.cache;
}

describe('report memory level', () => {
  test('stored bytes are answered as they are, with an ETag; If-None-Match answers 304 without a body', async () => {
    const token = await person.accessToken();
    const first = await replicaA.request('/api/reports/2026-11-10', { token });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await first.text();
    await replicaA.deps.reportCache.flush();
    const stored = await replicaA.deps.reportStore.read(`${ownerRef}/daily/2026-11-10/report.json`);
    expect(text).toBe(stored!);
    const etag = first.headers.get('etag');
    expect(etag).toBe(`"${createHash('md5').update(text).digest('hex')}"`);

    const again = await replicaA.request('/api/reports/2026-11-10', { token, headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    expect(cacheOutcome(replicaA, '/api/reports/2026-11-10')).toBe('memory');

    const page = await replicaA.request('/api/reports?limit=1&offset=1', { token });
    expect(((await page.json()) as { days: { date: string }[] }).days.map((d) => d.date)).toEqual(['2026-11-11']);
    expect(page.headers.get('etag')).toMatch(/-1-1"$/);
  });

  test('an invalidation on one replica drops the other replica’s memory copy (Redis versions + pub/sub)', async () => {
    const token = await person.accessToken();
    const path = '/api/reports/summary';
    expect((await replicaA.request(path, { token })).status).toBe(200);
    await replicaA.deps.reportCache.flush();
    const before = (await (await replicaB.request(path, { token })).json()) as { movements: number };
    expect(cacheOutcome(replicaB, path)).toBe('hit');
    expect(before.movements).toBe(65);
    await replicaB.request(path, { token });
    expect(cacheOutcome(replicaB, path)).toBe('memory');

    // New data for the user, then the jobs service invalidates through replica A.
    await seeder.insert([{ user_id: ownerRef, hour: '2026-11-13 09:00:00', movements: 100, successful_movements: 100 }]);
    const invalidated = await replicaA.request('/api/reports/invalidate', { method: 'POST', token: serviceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_ids: [ownerRef] }) });
    expect(invalidated.status).toBe(200);

    // Replica B never answers the old figure again (the message may take a moment; a version check covers that).
    let after: { movements: number } | undefined;
    for (let i = 0; i < 50; i++) {
      after = (await (await replicaB.request(path, { token })).json()) as { movements: number };
      if (after.movements !== 65) break;
      await Bun.sleep(20);
    }
    expect(after!.movements).toBe(165);
    expect(cacheOutcome(replicaB, path)).not.toBe('hit');
  });

  test('an invalidation while a miss computes keeps the stale result out of memory and S3', async () => {
    const token = await person.accessToken();
    const key = `${ownerRef}/daily/2026-11-12/report.json`;
    const pending = replicaB.request('/api/reports/2026-11-12', { token });
    await replicaA.deps.reportCache.invalidate([ownerRef]);
    expect((await pending).status).toBe(200);
    await replicaB.deps.reportCache.flush();
    // Either it finished before the invalidation (then the delete removed it) or it was not stored.
    expect(await replicaA.deps.reportStore.exists(key)).toBe(false);
    await replicaB.request('/api/reports/2026-11-12', { token });
    expect(cacheOutcome(replicaB, '/api/reports/2026-11-12')).not.toBe('memory');
  });
});

/** A TCP relay in front of S3 that the test can cut, for a replica that loses S3 mid-life. */
async function startRelay(target: URL): Promise<{ url: string; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

describe('report memory level: outages', () => {
  test('S3 lost: copies in memory are still served; a miss answers 503 naming S3', async () => {
    const relay = await startRelay(new URL(replicaA.env.S3_ENDPOINT!));
    const replica = createCoreHarness({ S3_ENDPOINT: relay.url });
    try {
      for (let i = 0; i < 100 && !replica.deps.reportVersions.isSubscribed(); i++) await Bun.sleep(20);
      const token = await person.accessToken();
      expect((await replica.request('/api/reports/2026-11-11', { token })).status).toBe(200);
      await replica.deps.reportCache.flush();
      await relay.cut();
      const cached = await replica.request('/api/reports/2026-11-11', { token });
      expect(cached.status).toBe(200);
      expect(((await cached.json()) as { totals: { movements: number } }).totals.movements).toBe(20);
      expect(cacheOutcome(replica, '/api/reports/2026-11-11')).toBe('memory');
      const miss = await replica.request('/api/reports/2026-11-10', { token });
      expect(miss.status).toBe(503);
      expect(((await miss.json()) as { error: { details: unknown } }).error.details).toEqual({ dependency: 's3' });
    } finally {
      await replica.close();
    }
  });

  test('Redis unreachable: reports are served from S3/ClickHouse (never memory); invalidation cleans S3 and answers 503 naming redis', async () => {
    const replica = createCoreHarness({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const token = await person.accessToken();
      for (let i = 0; i < 2; i++) {
        const response = await replica.request('/api/reports/2026-11-11', { token });
        expect(response.status).toBe(200);
        expect(cacheOutcome(replica, '/api/reports/2026-11-11')).not.toBe('memory');
      }
      await replica.deps.reportCache.flush();
      const key = `${ownerRef}/daily/2026-11-11/report.json`;
      expect(await replica.deps.reportStore.exists(key)).toBe(true);
      const invalidated = await replica.request('/api/reports/invalidate', { method: 'POST', token: serviceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_ids: [ownerRef] }) });
      expect(invalidated.status).toBe(503);
      expect(invalidated.headers.get('retry-after')).toBe('5');
      expect(((await invalidated.json()) as { error: { details: unknown } }).error.details).toEqual({ dependency: 'redis' });
      expect(await replica.deps.reportStore.exists(key)).toBe(false);
    } finally {
      await replica.close();
    }
  });
});
