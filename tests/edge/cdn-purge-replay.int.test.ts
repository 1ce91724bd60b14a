import { afterAll, describe, expect, test } from 'bun:test';
import Redis from 'ioredis';
import { signPurgeRequest } from '../../common/cdn/signing.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { createCdnApp } from '../../edge/cdn/app.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { buildCdnDeps } from '../../edge/cdn/deps.ts';
import { loadCdnConfig } from '../../edge/config.ts';
import { createRedisStore } from '../../edge/runtime/redis-store.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { freePort } from '../helpers/free-port.ts';
import { BUN, NODE, stackEnv, startProcess, type RunningProcess } from './support.ts';

// Issue 9: a signed purge carries a nonce (signed with the rest) that the edge claims in its shared
// store (the stack's Redis here) until the signature's window closes, so a captured purge works once.
const CDN = 'http://cdn.test';
const prefix = `purge-replay-${crypto.randomUUID().slice(0, 8)}/`;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const stores: Array<ReturnType<typeof createRedisStore>> = [];
const processes: RunningProcess[] = [];
const redis = new Redis(stackEnv.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });

afterAll(async () => {
  for (const store of stores) await store.close();
  for (const edge of processes) await edge.stop();
  redis.disconnect();
});

/** An in-process CDN with its own Redis connection, as a separate edge process would have. */
function inProcessCdn() {
  const store = createRedisStore({ url: stackEnv.REDIS_URL! });
  stores.push(store);
  const config = loadCdnConfig({ ...stackEnv, CDN_URL: CDN });
  return createCdnApp(buildCdnDeps(config, { cache: createMemoryLruCache(1 << 20), logger: createMemoryLogger('cdn'), store }));
}

async function signedPurge(): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify({ prefixes: [prefix] });
  return { body, headers: { ...(await signPurgeRequest(body, stackEnv.CDN_SIGNING_KEY!, nowSeconds())), 'content-type': 'application/json' } };
}

async function errorReason(response: Response): Promise<{ code: string; reason?: string }> {
  const { error } = (await response.json()) as { error: { code: string; details?: { reason?: string } } };
  return { code: error.code, reason: error.details?.reason };
}

describe('signed purge: a nonce makes each request usable once', () => {
  test('in-process: a fresh purge works, its replay is refused (409 replayed) here and on another edge instance', async () => {
    const [first, second] = [inProcessCdn(), inProcessCdn()];
    const purge = await signedPurge();
    const ok = await first.request(`${CDN}/purge`, { method: 'POST', headers: purge.headers, body: purge.body });
    expect(ok.status).toBe(200);

    const replayed = await first.request(`${CDN}/purge`, { method: 'POST', headers: purge.headers, body: purge.body });
    expect(replayed.status).toBe(409);
    expect(await errorReason(replayed)).toEqual({ code: 'conflict', reason: 'replayed' });
    const elsewhere = await second.request(`${CDN}/purge`, { method: 'POST', headers: purge.headers, body: purge.body });
    expect(elsewhere.status).toBe(409);

    // The claim lasts until the timestamp check alone would refuse the request, not forever.
    const nonce = purge.headers['x-cdn-nonce']!;
    const ttl = await redis.ttl(storeKeys.cdnPurgeNonce(nonce));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(Number(stackEnv.CDN_PURGE_WINDOW_SECONDS ?? 300) + 1);

    // A newly signed request (new nonce) is accepted on either instance.
    const fresh = await signedPurge();
    expect((await second.request(`${CDN}/purge`, { method: 'POST', headers: fresh.headers, body: fresh.body })).status).toBe(200);
  });

  test('a refused request claims nothing: a bad signature with a fresh nonce leaves that nonce usable', async () => {
    const cdn = inProcessCdn();
    const purge = await signedPurge();
    const forged = { ...purge.headers, 'x-cdn-signature': `${purge.headers['x-cdn-signature']!.startsWith('A') ? 'B' : 'A'}${purge.headers['x-cdn-signature']!.slice(1)}` };
    expect((await cdn.request(`${CDN}/purge`, { method: 'POST', headers: forged, body: purge.body })).status).toBe(401);
    expect((await cdn.request(`${CDN}/purge`, { method: 'POST', headers: purge.headers, body: purge.body })).status).toBe(200);
  });

  test('two edge processes (Node and Bun, --app=cdn) on the same Redis: a purge answered by one is refused when replayed on the other', async () => {
    const start = async (binary: string, entry: string) => {
      const port = await freePort();
      const edge = await startProcess(binary, [entry, '--app=cdn'], {
        env: { ...process.env, ...stackEnv, CDN_PORT: String(port), HOST: '127.0.0.1', EDGE_WORKERS: '1', LOG_LEVEL: 'warn' },
        port,
        timeoutMs: 60_000,
      });
      processes.push(edge);
      return edge;
    };
    const [nodeEdge, bunEdge] = await Promise.all([start(NODE, 'edge/runtime/node.ts'), start(BUN, 'edge/runtime/bun.ts')]);
    const purge = await signedPurge();
    const send = (edge: RunningProcess, request = purge) => fetch(`${edge.url}/purge`, { method: 'POST', headers: request.headers, body: request.body });
    expect((await send(nodeEdge)).status).toBe(200);
    const replayed = await send(bunEdge);
    expect(replayed.status).toBe(409);
    expect(await errorReason(replayed)).toEqual({ code: 'conflict', reason: 'replayed' });
    expect((await send(nodeEdge)).status).toBe(409);
    expect((await send(bunEdge, await signedPurge())).status).toBe(200);
  }, 120_000);
});
