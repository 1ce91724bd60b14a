import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { signPurgeRequest, signReportUrl } from '../../common/cdn/signing.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { createCdnPurger } from '../../core/reports/cdn-purge.ts';
import { createCdnApp } from '../../edge/cdn/app.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { buildCdnDeps } from '../../edge/cdn/deps.ts';
import { createS3Origin } from '../../edge/cdn/s3-origin.ts';
import { loadCdnConfig } from '../../edge/config.ts';
import { createZlibCompressor } from '../../edge/runtime/zlib-compressor.ts';
import { localS3Client } from '../../stack/services/s3.ts';
import { s3Settings } from '../../stack/services/s3-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { APP_ORIGIN, stackEnv } from './support.ts';

// The CDN edge in-process in front of the stack's real S3 endpoint (SigV4-guarded s3rver).
const CDN = 'http://cdn.test';
const prefix = `edge-test-${crypto.randomUUID().slice(0, 8)}`;
const s3 = localS3Client(s3Settings(stackEnv), 10_000);
const seeded: string[] = [];
const document = JSON.stringify({ user_id: prefix, days: Array.from({ length: 60 }, (_, i) => ({ date: `2026-10-${String((i % 30) + 1).padStart(2, '0')}`, movements: i * 17 })) });

async function putObject(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
  seeded.push(key);
}

function cdnWith(overrides: Record<string, string> = {}, originFetch?: typeof fetch) {
  const config = loadCdnConfig({ ...stackEnv, CDN_URL: CDN, ...overrides });
  const origin = createS3Origin({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    timeoutMs: 2_000,
    maxObjectBytes: config.CDN_MAX_OBJECT_BYTES,
    fetch: originFetch,
  });
  const cache = createMemoryLruCache(config.CDN_CACHE_MAX_BYTES);
  const deps = buildCdnDeps(config, { cache, compressor: createZlibCompressor(), origin, logger: createMemoryLogger('cdn') });
  return { app: createCdnApp(deps), deps, cache };
}

let originCalls = 0;
const countingFetch = ((request: Request) => {
  originCalls++;
  return fetch(request);
}) as typeof fetch;
const cdn = cdnWith({}, countingFetch);

const nowSeconds = () => Math.floor(Date.now() / 1000);
const signed = (key: string, ttlSeconds = 300) => signReportUrl({ cdnUrl: CDN, key, expiresAtSeconds: nowSeconds() + ttlSeconds, signingKey: stackEnv.CDN_SIGNING_KEY! });

async function purge(body: object, app = cdn.app) {
  const text = JSON.stringify(body);
  const headers = await signPurgeRequest(text, stackEnv.CDN_SIGNING_KEY!, nowSeconds());
  return app.request(`${CDN}/purge`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: text });
}

const listKey = `${prefix}/list/reports.json`;
const dailyKey = `${prefix}/daily/2026-11-24/report.json`;

beforeAll(async () => {
  await putObject(listKey, document);
  await putObject(dailyKey, JSON.stringify({ day: '2026-11-24', hours: [] }));
});

afterAll(async () => {
  for (const key of seeded) await s3.send(new DeleteObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: key })).catch(() => {});
  s3.destroy();
});

describe('signed report URLs', () => {
  test('MISS, then HIT from the cache; strong ETag; private caching bounded by the link expiry', async () => {
    const url = await signed(listKey, 30);
    const first = await cdn.app.request(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache-status')).toBe('MISS');
    expect(await first.text()).toBe(document);
    expect(first.headers.get('content-type')).toBe('application/json');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
    expect(first.headers.get('cache-control')).toMatch(/^private, max-age=(30|29)$/);
    expect(first.headers.get('vary')).toContain('Accept-Encoding');
    const second = await cdn.app.request(url);
    expect(second.headers.get('x-cache-status')).toBe('HIT');
    expect(second.headers.get('etag')).toBe(etag);
  });

  test('the cache key is the object, not the URL: another valid signature hits the same entry', async () => {
    const other = await signed(listKey, 120);
    expect((await cdn.app.request(other)).headers.get('x-cache-status')).toBe('HIT');
  });

  test('If-None-Match → 304 without a body', async () => {
    const url = await signed(listKey);
    const etag = (await cdn.app.request(url)).headers.get('etag')!;
    const notModified = await cdn.app.request(url, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await cdn.app.request(url, { headers: { 'if-none-match': '"something-else"' } })).status).toBe(200);
  });

  test('gzip and br when accepted, each with its own strong ETag; HEAD has no body', async () => {
    const url = await signed(listKey);
    const gzip = await cdn.app.request(url, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    const gzipBytes = new Uint8Array(await gzip.arrayBuffer());
    expect(gunzipSync(gzipBytes).toString()).toBe(document);
    expect(gzipBytes.byteLength).toBeLessThan(document.length / 3);
    const br = await cdn.app.request(url, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(new Uint8Array(await br.arrayBuffer())).toString()).toBe(document);
    expect(new Set([gzip.headers.get('etag'), br.headers.get('etag')]).size).toBe(2);
    // A compressed representation's ETag still validates the object.
    expect((await cdn.app.request(url, { headers: { 'if-none-match': gzip.headers.get('etag')! } })).status).toBe(304);
    const head = await cdn.app.request(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  test('CORS for the app origin only', async () => {
    const url = await signed(listKey);
    const fromApp = await cdn.app.request(url, { headers: { origin: APP_ORIGIN } });
    expect(fromApp.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(fromApp.headers.get('access-control-expose-headers')).toContain('x-cache-status');
    const fromElsewhere = await cdn.app.request(url, { headers: { origin: 'https://evil.example' } });
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await cdn.app.request(url, { method: 'OPTIONS', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-none-match' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
  });

  test('tampered, expired or malformed links are refused with 403, nothing is fetched', async () => {
    const url = new URL(await signed(listKey));
    const calls = originCalls;
    const sig = url.searchParams.get('sig')!;
    const cases: Array<[string, string]> = [];
    const tamperedSig = new URL(url);
    tamperedSig.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    cases.push([tamperedSig.toString(), 'bad_signature']);
    const longerExp = new URL(url);
    longerExp.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    cases.push([longerExp.toString(), 'bad_signature']);
    cases.push([url.toString().replace(listKey, dailyKey), 'bad_signature']);
    cases.push([await signReportUrl({ cdnUrl: CDN, key: listKey, expiresAtSeconds: nowSeconds() - 1, signingKey: stackEnv.CDN_SIGNING_KEY! }), 'expired']);
    cases.push([await signReportUrl({ cdnUrl: CDN, key: listKey, expiresAtSeconds: nowSeconds() + 60, signingKey: 'another-signing-key-0123456789' }), 'bad_signature']);
    cases.push([`${CDN}/reports/${listKey}`, 'malformed']);
    cases.push([`${CDN}/reports/${prefix}/list/re%20ports.json?exp=9999999999&sig=${sig}`, 'malformed']);
    for (const [target, reason] of cases) {
      const response = await cdn.app.request(target);
      expect(response.status).toBe(403);
      const body = (await response.json()) as { error: { code: string; details: { reason: string } } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.details.reason).toBe(reason);
    }
    // Dot segments are resolved by URL parsing before routing: nothing escapes /reports/.
    expect((await cdn.app.request(`${CDN}/reports/../etc/passwd?exp=9999999999&sig=${sig}`)).status).toBe(404);
    expect(originCalls).toBe(calls);
  });

  test('a missing object is 404', async () => {
    const response = await cdn.app.request(await signed(`${prefix}/daily/1999-01-01/report.json`));
    expect(response.status).toBe(404);
  });

  test('concurrent misses of one object make one S3 request', async () => {
    expect((await purge({ keys: [listKey] })).status).toBe(200);
    const url = await signed(listKey);
    const calls = originCalls;
    const responses = await Promise.all(Array.from({ length: 30 }, () => cdn.app.request(url)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.headers.get('x-cache-status') === 'MISS')).toHaveLength(30);
    expect(originCalls - calls).toBe(1);
  });
});

describe('stale copies', () => {
  test('S3 down: a cached copy is served STALE (stale-if-error); an uncached object is 502', async () => {
    const deadPort = await freePort();
    const cdnOfDeadS3 = cdnWith({ S3_ENDPOINT: `http://127.0.0.1:${deadPort}`, CDN_FRESH_SECONDS: '0', CDN_STALE_WHILE_REVALIDATE_SECONDS: '0' });
    // Fill its cache from the real S3 through a healthy twin sharing the cache object.
    const twin = buildCdnDeps(loadCdnConfig({ ...stackEnv, CDN_FRESH_SECONDS: '0', CDN_STALE_WHILE_REVALIDATE_SECONDS: '0' }), { cache: cdnOfDeadS3.cache, compressor: createZlibCompressor(), logger: createMemoryLogger() });
    expect(await twin.reports.read(listKey)).toMatchObject({ found: true, status: 'MISS' });
    const stale = await cdnOfDeadS3.app.request(await signed(listKey));
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache-status')).toBe('STALE');
    expect(await stale.text()).toBe(document);
    const uncached = await cdnOfDeadS3.app.request(await signed(dailyKey));
    expect(uncached.status).toBe(502);
  });

  test('past the fresh window: STALE at once, revalidated in the background, REVALIDATED by a conditional GET later', async () => {
    const swr = cdnWith({ CDN_FRESH_SECONDS: '0', CDN_STALE_WHILE_REVALIDATE_SECONDS: '300' });
    const url = await signed(dailyKey);
    expect((await swr.app.request(url)).headers.get('x-cache-status')).toBe('MISS');
    expect((await swr.app.request(url)).headers.get('x-cache-status')).toBe('STALE');
    const strict = cdnWith({ CDN_FRESH_SECONDS: '0', CDN_STALE_WHILE_REVALIDATE_SECONDS: '0' });
    expect((await strict.app.request(url)).headers.get('x-cache-status')).toBe('MISS');
    expect((await strict.app.request(url)).headers.get('x-cache-status')).toBe('REVALIDATED');
  });
});

describe('purge', () => {
  test('unsigned, wrongly signed or stale purge requests are refused', async () => {
    const body = JSON.stringify({ all: true });
    const unsigned = await cdn.app.request(`${CDN}/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    const wrongKey = await signPurgeRequest(body, 'another-signing-key-0123456789', nowSeconds());
    expect((await cdn.app.request(`${CDN}/purge`, { method: 'POST', headers: wrongKey, body })).status).toBe(401);
    const old = await signPurgeRequest(body, stackEnv.CDN_SIGNING_KEY!, nowSeconds() - 3600);
    expect((await cdn.app.request(`${CDN}/purge`, { method: 'POST', headers: old, body })).status).toBe(401);
    // A signature covers the exact body: another body with the same headers fails.
    const signedForOther = await signPurgeRequest(JSON.stringify({ prefixes: ['x/'] }), stackEnv.CDN_SIGNING_KEY!, nowSeconds());
    expect((await cdn.app.request(`${CDN}/purge`, { method: 'POST', headers: signedForOther, body })).status).toBe(401);
  });

  test('bad purge bodies are 422', async () => {
    for (const body of [{}, { prefixes: [] }, { prefixes: ['../x'] }, { all: false }, { keys: ['a'], all: true }]) {
      expect((await purge(body)).status).toBe(422);
    }
  });

  test('by prefix, key or all; the next read is a MISS', async () => {
    const list = await signed(listKey);
    const daily = await signed(dailyKey);
    await cdn.app.request(list);
    await cdn.app.request(daily);
    const byPrefix = await purge({ prefixes: [`${prefix}/list/`] });
    expect(await byPrefix.json()).toEqual({ purged: { prefixes: [`${prefix}/list/`] }, dropped: 1 });
    expect((await cdn.app.request(list)).headers.get('x-cache-status')).toBe('MISS');
    expect((await cdn.app.request(daily)).headers.get('x-cache-status')).toBe('HIT');
    expect(await (await purge({ all: true })).json()).toMatchObject({ dropped: 2 });
    expect((await cdn.app.request(daily)).headers.get('x-cache-status')).toBe('MISS');
  });

  test("core's purger (core/reports/cdn-purge.ts) is accepted as is", async () => {
    await cdn.app.request(await signed(listKey));
    const purger = createCdnPurger({ cdnUrl: CDN, signingKey: stackEnv.CDN_SIGNING_KEY!, timeoutMs: 2000, now: Date.now, fetch: ((input: RequestInfo | URL, init?: RequestInit) => cdn.app.request(input as string, init)) as typeof fetch });
    const result = await purger.purge({ prefixes: [`${prefix}/`] });
    expect(result).toMatchObject({ attempted: true, ok: true, status: 200 });
    expect((await cdn.app.request(await signed(listKey))).headers.get('x-cache-status')).toBe('MISS');
  });
});
