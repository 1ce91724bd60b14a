import { describe, expect, test } from 'bun:test';
import { signReportUrl } from '../../common/cdn/signing.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { createCdnApp } from '../../edge/cdn/app.ts';
import { createCacheApiCache } from '../../edge/cdn/cache/cache-api.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { createPurgeLedger } from '../../edge/cdn/cache/purge-ledger.ts';
import { buildCdnDeps } from '../../edge/cdn/deps.ts';
import { createFastHits, type FastHitAnswer } from '../../edge/cdn/fast-hit.ts';
import type { OriginResult, ReportOrigin } from '../../edge/cdn/s3-origin.ts';
import { createVerifiedLinks } from '../../edge/cdn/verified-links.ts';
import { loadCdnConfig } from '../../edge/config.ts';
import { createZlibCompressor } from '../../edge/runtime/zlib-compressor.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

// Pure logic: the origin is a stand-in (the same paths run against real S3 in cdn.int.test.ts and
// from the entry files in contract/edge.int.test.ts and cdn-workers.int.test.ts).
const SIGNING_KEY = 'k'.repeat(40);
const CDN = 'http://cdn.test';
const APP = 'http://app.test';
const KEY = 'anna.ivanova/daily/2026-11-24/report.json';
const BODY = JSON.stringify({ hours: Array.from({ length: 24 }, (_, hour) => ({ hour, movements: hour * 11, battery: 100 - hour })) });

const env = {
  CDN_SIGNING_KEY: SIGNING_KEY,
  S3_ENDPOINT: 'http://s3.test',
  S3_REGION: 'us-east-1',
  S3_BUCKET: 'reports',
  S3_ACCESS_KEY_ID: 'id',
  S3_SECRET_ACCESS_KEY: 'secret-secret',
  FRONTEND_URL: APP,
  CDN_URL: CDN,
};

function fakeOrigin(body = BODY): ReportOrigin & { calls: number } {
  const origin = {
    calls: 0,
    async fetch(): Promise<OriginResult> {
      origin.calls++;
      return { status: 'ok', object: { body: new TextEncoder().encode(body), contentType: 'application/json', originEtag: '"o1"', lastModified: 'Tue, 24 Nov 2026 10:00:00 GMT' } };
    },
  };
  return origin;
}

function edge(overrides: Record<string, string> = {}, clock = { ms: Date.now() }) {
  const config = loadCdnConfig({ ...env, ...overrides });
  const logger = createMemoryLogger('cdn');
  const origin = fakeOrigin();
  const deps = buildCdnDeps(config, { cache: createMemoryLruCache(config.CDN_CACHE_MAX_BYTES), compressor: createZlibCompressor(), origin, logger, now: () => clock.ms });
  const fast = createFastHits(deps)!;
  return { app: createCdnApp(deps), deps, fast, logger, origin, clock };
}

const link = (ttlSeconds = 3600, key = KEY) => signReportUrl({ cdnUrl: CDN, key, expiresAtSeconds: Math.floor(Date.now() / 1000) + ttlSeconds, signingKey: SIGNING_KEY });
const pathOf = (url: string) => url.slice(CDN.length);
const reader = (headers: Record<string, string>) => (name: string) => headers[name];

/** Headers that differ per request by design. */
function stable(headers: Record<string, string>): Record<string, string> {
  const { 'x-request-id': _id, date: _date, ...rest } = headers;
  return rest;
}

function headersOf(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers.entries()].map(([name, value]) => [name.toLowerCase(), value]));
}

describe('verified links', () => {
  test('a verified link is remembered until its expiry; a changed byte is verified afresh and refused', async () => {
    const links = createVerifiedLinks(SIGNING_KEY);
    const now = Math.floor(Date.now() / 1000);
    const url = new URL(await link(60));
    expect(links.lookup(url.pathname + url.search, now)).toBeUndefined();
    expect(await links.verify(url, now)).toEqual({ ok: true, key: KEY });
    expect(links.lookup(url.pathname + url.search, now)).toEqual({ key: KEY, expiresAtSeconds: Number(url.searchParams.get('exp')) });

    const tampered = new URL(url);
    const sig = tampered.searchParams.get('sig')!;
    tampered.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    expect(await links.verify(tampered, now)).toEqual({ ok: false, reason: 'bad_signature' });
    const otherKey = new URL(url.href.replace('/daily/', '/summary/'));
    expect(await links.verify(otherKey, now)).toEqual({ ok: false, reason: 'bad_signature' });

    // Past its expiry the remembered link is gone, and the full check says expired.
    expect(links.lookup(url.pathname + url.search, now + 61)).toBeUndefined();
    expect(await links.verify(url, now + 61)).toEqual({ ok: false, reason: 'expired' });
    expect(links.size).toBe(0);
  });

  test('bounded: the oldest remembered link goes first', async () => {
    const links = createVerifiedLinks(SIGNING_KEY, { maxEntries: 3 });
    const now = Math.floor(Date.now() / 1000);
    const urls = await Promise.all(['a', 'b', 'c', 'd'].map((user) => link(600, `${user}.user/daily/2026-11-24/report.json`).then((u) => new URL(u))));
    for (const url of urls) expect((await links.verify(url, now)).ok).toBe(true);
    expect(links.size).toBe(3);
    expect(links.lookup(urls[0]!.pathname + urls[0]!.search, now)).toBeUndefined();
    expect(links.lookup(urls[3]!.pathname + urls[3]!.search, now)?.key).toBe('d.user/daily/2026-11-24/report.json');
  });
});

describe('fast path for fresh hits', () => {
  const cases: Array<{ name: string; headers: Record<string, string>; method?: string }> = [
    { name: 'identity', headers: {} },
    { name: 'gzip', headers: { 'accept-encoding': 'gzip' } },
    { name: 'br with the app origin', headers: { 'accept-encoding': 'gzip, br', origin: APP } },
    { name: 'a foreign origin gets no CORS grant', headers: { origin: 'https://evil.test' } },
    { name: 'If-None-Match → 304', headers: { 'if-none-match': 'W/"nomatch", *' } },
    { name: 'HEAD', headers: { 'accept-encoding': 'gzip' }, method: 'HEAD' },
  ];
  for (const { name, headers, method = 'GET' } of cases) {
    test(`sends what the full route sends: ${name}`, async () => {
      const { app, fast } = edge();
      const url = await link();
      // The full route fills the cache, the compressed copy and the verified link …
      const first = await app.request(url, { method, headers });
      expect(first.headers.get('x-cache-status')).toBe('MISS');
      // … and answers a second request from the cache: HIT. The fast path must send the same.
      const full = await app.request(url, { method, headers });
      expect(full.headers.get('x-cache-status')).toBe('HIT');
      const answer = fast(method, pathOf(url), reader(headers)) as FastHitAnswer;
      expect(answer).toBeDefined();
      expect(answer.status).toBe(full.status as 200 | 304);
      expect(stable(answer.headers)).toEqual(stable(headersOf(full)));
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const fullBody = new Uint8Array(await full.arrayBuffer());
      expect(answer.body ? [...answer.body] : []).toEqual([...fullBody]);
    });
  }

  test('declines what it cannot answer alone: unknown or tampered links, other routes, stale entries, coding not made yet', async () => {
    const clock = { ms: Date.now() };
    const { app, fast, origin } = edge({ CDN_FRESH_SECONDS: '60' }, clock);
    const url = await link();
    expect(fast('GET', pathOf(url), reader({}))).toBeUndefined(); // never verified
    await app.request(url);
    expect(fast('GET', pathOf(url), reader({}))?.status).toBe(200);
    expect(fast('POST', pathOf(url), reader({}))).toBeUndefined();
    expect(fast('GET', '/health/live', reader({}))).toBeUndefined();
    expect(fast('GET', pathOf(url).replace(/sig=./, 'sig=Z'), reader({}))).toBeUndefined();
    // br was never asked for, so no compressed copy exists yet: the full route makes it.
    expect(fast('GET', pathOf(url), reader({ 'accept-encoding': 'br' }))).toBeUndefined();
    // Past the fresh window the full route answers (STALE, with a background revalidation).
    clock.ms += 61_000;
    expect(fast('GET', pathOf(url), reader({}))).toBeUndefined();
    expect((await app.request(url)).headers.get('x-cache-status')).toBe('STALE');
    expect(origin.calls).toBe(2); // the first fill, then the background revalidation the STALE answer started
  });

  test('an expired link is refused by the full route even though it was verified before', async () => {
    const clock = { ms: Date.now() };
    const { app, fast } = edge({}, clock);
    const url = await link(30);
    expect((await app.request(url)).status).toBe(200);
    clock.ms += 31_000;
    expect(fast('GET', pathOf(url), reader({}))).toBeUndefined();
    const refused = await app.request(url);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('expired');
  });

  test('a purge is seen at once: the next request goes to the full route', async () => {
    const { app, fast, deps } = edge();
    const url = await link();
    await app.request(url);
    expect(fast('GET', pathOf(url), reader({}))).toBeDefined();
    deps.reports.notePurge();
    await deps.cache.purge({ prefixes: ['anna.ivanova/'] });
    expect(fast('GET', pathOf(url), reader({}))).toBeUndefined();
    expect((await app.request(url)).headers.get('x-cache-status')).toBe('MISS');
  });

  test('hits are logged one in CDN_LOG_HIT_SAMPLE, with the request id of a real response', async () => {
    const { app, fast, logger } = edge({ CDN_LOG_HIT_SAMPLE: '3' });
    const url = await link();
    await app.request(url);
    const before = logger.lines.length;
    const answers = Array.from({ length: 7 }, () => fast('GET', pathOf(url), reader({}))!);
    const lines = logger.lines.slice(before);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({ event: 'http.request', status: 200, cache: 'HIT', key: KEY, sampled: 3, path: `/reports/${KEY}` });
      expect(answers.map((a) => a.headers['x-request-id'])).toContain(line.requestId as string);
      expect(JSON.stringify(line)).not.toContain('sig=');
    }
  });

  test('caches that cannot answer synchronously (the Cache API) get no fast path', () => {
    const config = loadCdnConfig(env);
    const cache = createCacheApiCache({ open: async () => ({}) as Cache, retainSeconds: 60, ledger: createPurgeLedger({ store: createMemoryStore(), now: Date.now, retainSeconds: 60 }) });
    const deps = buildCdnDeps(config, { cache, origin: fakeOrigin(), logger: createMemoryLogger('cdn') });
    expect(createFastHits(deps)).toBeUndefined();
  });
});
