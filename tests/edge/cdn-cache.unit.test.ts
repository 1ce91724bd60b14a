import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createMemoryLruCache } from '../../edge/cdn/cache/memory-lru.ts';
import { createPurgeLedger } from '../../edge/cdn/cache/purge-ledger.ts';
import { createStaleWhileRevalidate } from '../../edge/cdn/cache/stale-while-revalidate.ts';
import { matchesIfNoneMatch, representationEtag, strongEtagOf } from '../../edge/cdn/etag.ts';
import { negotiateCoding } from '../../edge/cdn/compression.ts';
import { OriginUnavailable, type OriginResult, type ReportOrigin } from '../../edge/cdn/s3-origin.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('content negotiation', () => {
  test('picks the best coding we can produce, honouring q and *', () => {
    const both = ['br', 'gzip'] as const;
    expect(negotiateCoding('gzip, deflate, br', both)).toBe('br');
    expect(negotiateCoding('gzip', both)).toBe('gzip');
    expect(negotiateCoding('br;q=0.5, gzip;q=0.9', both)).toBe('gzip');
    expect(negotiateCoding('br;q=0, *', both)).toBe('gzip');
    expect(negotiateCoding('identity', both)).toBe('identity');
    expect(negotiateCoding('*;q=0', both)).toBe('identity');
    expect(negotiateCoding(undefined, both)).toBe('identity');
    expect(negotiateCoding('br, gzip', ['gzip'])).toBe('gzip');
    expect(negotiateCoding('br', [])).toBe('identity');
  });

  test('If-None-Match matches any representation of the same bytes, weak or strong', () => {
    expect(matchesIfNoneMatch('"abc"', 'abc')).toBe(true);
    expect(matchesIfNoneMatch('W/"abc-gzip"', 'abc')).toBe(true);
    expect(matchesIfNoneMatch('"zzz", "abc-br"', 'abc')).toBe(true);
    expect(matchesIfNoneMatch('*', 'abc')).toBe(true);
    expect(matchesIfNoneMatch('"abd"', 'abc')).toBe(false);
    expect(matchesIfNoneMatch(undefined, 'abc')).toBe(false);
    expect(representationEtag('abc', 'gzip')).toBe('"abc-gzip"');
  });
});

describe('in-memory LRU with a byte budget', () => {
  const object = async (key: string, size: number, storedAtMs = 0) => {
    const body = bytes('x'.repeat(size));
    return { key, body, etag: await strongEtagOf(body), originEtag: null, contentType: 'application/json', lastModified: null, storedAtMs };
  };

  test('evicts the least recently used entries to stay within budget', async () => {
    const cache = createMemoryLruCache(10_000);
    await cache.put(await object('a', 3000));
    await cache.put(await object('b', 3000));
    await cache.put(await object('c', 3000));
    await cache.get('a'); // a is now the most recently used
    await cache.put(await object('d', 3000));
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
    expect(cache.stats().bytes).toBeLessThanOrEqual(10_000);
    expect(cache.stats().evictions).toBe(1);
  });

  test('variants count against the budget and die with their bytes', async () => {
    const cache = createMemoryLruCache(100_000);
    const a = await object('a', 2000);
    await cache.put(a);
    await cache.putVariant('a', a.etag, 'gzip', bytes('gz'));
    expect(await cache.getVariant('a', a.etag, 'gzip')).toEqual(bytes('gz'));
    await cache.put({ ...a, storedAtMs: 5 });
    expect(await cache.getVariant('a', a.etag, 'gzip')).toEqual(bytes('gz'));
    const changed = await object('a', 2001);
    await cache.put(changed);
    expect(await cache.getVariant('a', changed.etag, 'gzip')).toBeUndefined();
  });

  test('an object larger than the whole budget is not kept; purge by prefix, key or all', async () => {
    const cache = createMemoryLruCache(5000);
    await cache.put(await object('huge', 6000));
    expect(await cache.get('huge')).toBeUndefined();
    for (const key of ['u1/list', 'u1/daily/1', 'u2/list']) await cache.put(await object(key, 10));
    expect(await cache.purge({ prefixes: ['u1/'] })).toBe(2);
    expect(await cache.purge({ keys: ['u2/list', 'nope'] })).toBe(1);
    await cache.put(await object('u3/x', 10));
    expect(await cache.purge({ all: true })).toBe(1);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('stale-while-revalidate in front of the origin', () => {
  function setup(windows = { freshMs: 60_000, staleWhileRevalidateMs: 300_000, staleIfErrorMs: 86_400_000 }) {
    const clock = { now: 1_800_000_000_000 };
    let version = 1;
    let failing = false;
    const calls: Array<string | null> = [];
    let gate: Promise<void> = Promise.resolve();
    const origin: ReportOrigin = {
      async fetch(_key, ifNoneMatch) {
        calls.push(ifNoneMatch ?? null);
        await gate;
        if (failing) throw new OriginUnavailable('S3 down');
        const etag = `"v${version}"`;
        if (ifNoneMatch === etag) return { status: 'not_modified' } satisfies OriginResult;
        return { status: 'ok', object: { body: bytes(`body v${version}`), contentType: 'application/json', originEtag: etag, lastModified: null } };
      },
    };
    const cache = createMemoryLruCache(1_000_000);
    const background: Promise<unknown>[] = [];
    const swr = createStaleWhileRevalidate({ cache, origin, windows, now: () => clock.now, logger: createMemoryLogger() });
    const read = (key = 'u/list/reports.json') => swr.read(key, (work) => void background.push(work));
    return {
      swr,
      cache,
      read,
      clock,
      calls,
      background,
      set version(v: number) {
        version = v;
      },
      set failing(f: boolean) {
        failing = f;
      },
      hold() {
        let release: () => void = () => {};
        gate = new Promise((resolve) => (release = resolve));
        return release;
      },
    };
  }
  const text = (result: Awaited<ReturnType<ReturnType<typeof setup>['read']>>) => (result.found ? new TextDecoder().decode(result.object.body) : null);

  test('MISS, then HIT while fresh', async () => {
    const t = setup();
    expect((await t.read()).found && (await t.read())).toMatchObject({ status: 'HIT' });
    expect(t.calls).toHaveLength(1);
  });

  test('STALE inside the revalidate window, refreshed in the background', async () => {
    const t = setup();
    await t.read();
    t.version = 2;
    t.clock.now += 61_000;
    const stale = await t.read();
    expect(stale).toMatchObject({ status: 'STALE' });
    expect(text(stale)).toBe('body v1');
    await Promise.all(t.background);
    const after = await t.read();
    expect(after).toMatchObject({ status: 'HIT' });
    expect(text(after)).toBe('body v2');
  });

  test('past the window: revalidated with If-None-Match (304 → REVALIDATED, 200 → MISS)', async () => {
    const t = setup();
    await t.read();
    t.clock.now += 400_000;
    expect(await t.read()).toMatchObject({ status: 'REVALIDATED' });
    expect(t.calls.at(-1)).toBe('"v1"');
    t.version = 3;
    t.clock.now += 400_000;
    const changed = await t.read();
    expect(changed).toMatchObject({ status: 'MISS' });
    expect(text(changed)).toBe('body v3');
  });

  test('origin down: the stale copy is served (stale-if-error), until that window ends too', async () => {
    const t = setup({ freshMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 3_600_000 });
    await t.read();
    t.failing = true;
    t.clock.now += 600_000;
    const stale = await t.read();
    expect(stale).toMatchObject({ status: 'STALE' });
    expect(text(stale)).toBe('body v1');
    t.clock.now += 3_600_000;
    await expect(t.read()).rejects.toThrow(OriginUnavailable);
    await expect(t.read('never/cached/x.json')).rejects.toThrow(OriginUnavailable);
  });

  test('concurrent misses share one origin request', async () => {
    const t = setup();
    const release = t.hold();
    const reads = Array.from({ length: 25 }, () => t.read());
    release();
    const results = await Promise.all(reads);
    expect(t.calls).toHaveLength(1);
    expect(results.every((r) => r.found && r.status === 'MISS')).toBe(true);
  });

  test('a fetch that started before a purge does not write its (old) result back', async () => {
    const t = setup();
    const release = t.hold();
    const pending = t.read();
    while (t.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    t.swr.notePurge();
    await t.cache.purge({ all: true });
    release();
    expect(await pending).toMatchObject({ status: 'MISS' });
    expect(await t.cache.get('u/list/reports.json')).toBeUndefined();
  });

  test('an object gone from the origin is dropped from the cache', async () => {
    const t = setup();
    await t.read();
    t.clock.now += 400_000;
    const origin404: ReportOrigin = { fetch: async () => ({ status: 'not_found' }) };
    const swr = createStaleWhileRevalidate({ cache: t.cache, origin: origin404, windows: { freshMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 }, now: () => t.clock.now, logger: createMemoryLogger() });
    expect(await swr.read('u/list/reports.json')).toEqual({ found: false });
    expect(await t.cache.get('u/list/reports.json')).toBeUndefined();
  });
});

describe('purge ledger (Cache API prefix purges)', () => {
  test('an entry stored before a covering purge counts as gone; later ones do not', async () => {
    const clock = { now: 1_800_000_000_000 };
    const store = createMemoryStore(() => clock.now);
    const ledger = createPurgeLedger({ store, now: () => clock.now, retainSeconds: 3600, refreshMs: 0 });
    const storedBefore = clock.now - 1;
    await ledger.record({ prefixes: ['ivan.petrov/'] });
    expect(await ledger.isPurged('ivan.petrov/list/reports.json', storedBefore)).toBe(true);
    expect(await ledger.isPurged('ivan.petrovna/list/reports.json', storedBefore)).toBe(false);
    expect(await ledger.isPurged('ivan.petrov/list/reports.json', clock.now + 1)).toBe(false);
    await ledger.record({ keys: ['a/b/c.json'] });
    expect(await ledger.isPurged('a/b/c.json', storedBefore)).toBe(true);
    // Another isolate sharing the store sees the marks.
    const other = createPurgeLedger({ store, now: () => clock.now, retainSeconds: 3600, refreshMs: 0 });
    expect(await other.isPurged('ivan.petrov/summary/summary.json', storedBefore)).toBe(true);
    await other.record({ all: true });
    expect(await ledger.isPurged('zz/any.json', storedBefore)).toBe(true);
  });
});
