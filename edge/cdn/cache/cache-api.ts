import type { ContentCoding } from '../compression.ts';
import type { CachedObject, ObjectCache } from './object-cache.ts';
import type { PurgeLedger } from './purge-ledger.ts';

/**
 * The runtime's Cache API as the object cache (workerd's caches.default, Deno's caches.open). Entries
 * are synthetic requests on a private host; metadata rides in x-cdn-* headers. The Cache API keeps
 * a response for its max-age, which is set to the longest window an entry may still be served in
 * (fresh + stale); freshness itself is judged from x-cdn-stored-at. Prefix purges go through the
 * purge ledger because the Cache API cannot list keys.
 */
const CACHE_HOST = 'https://cdn-cache.invalid';

const objectUrl = (key: string) => `${CACHE_HOST}/object/${key}`;
const variantUrl = (key: string, etag: string, coding: ContentCoding) => `${CACHE_HOST}/variant/${coding}/${encodeURIComponent(etag)}/${key}`;

export interface CacheApiOptions {
  open: () => Promise<Cache>;
  ledger: PurgeLedger;
  retainSeconds: number;
}

export function createCacheApiCache(options: CacheApiOptions): ObjectCache {
  let opened: Promise<Cache> | undefined;
  const cache = () => (opened ??= options.open());
  const maxAge = `public, max-age=${Math.max(1, options.retainSeconds)}`;

  return {
    async get(key) {
      const response = await (await cache()).match(objectUrl(key));
      if (!response) return undefined;
      const storedAtMs = Number(response.headers.get('x-cdn-stored-at'));
      const etag = response.headers.get('x-cdn-etag');
      if (!etag || !Number.isFinite(storedAtMs)) {
        await response.body?.cancel();
        return undefined;
      }
      if (await options.ledger.isPurged(key, storedAtMs)) {
        await response.body?.cancel();
        await (await cache()).delete(objectUrl(key));
        return undefined;
      }
      return {
        key,
        body: new Uint8Array(await response.arrayBuffer()),
        etag,
        originEtag: response.headers.get('x-cdn-origin-etag'),
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        lastModified: response.headers.get('x-cdn-last-modified'),
        storedAtMs,
      };
    },
    async put(object: CachedObject) {
      const headers = new Headers({ 'content-type': object.contentType, 'cache-control': maxAge, 'x-cdn-etag': object.etag, 'x-cdn-stored-at': String(object.storedAtMs) });
      if (object.originEtag) headers.set('x-cdn-origin-etag', object.originEtag);
      if (object.lastModified) headers.set('x-cdn-last-modified', object.lastModified);
      await (await cache()).put(objectUrl(object.key), new Response(object.body as BodyInit, { headers }));
    },
    async getVariant(key, etag, coding) {
      const response = await (await cache()).match(variantUrl(key, etag, coding));
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    async putVariant(key, etag, coding, bytes) {
      await (await cache()).put(variantUrl(key, etag, coding), new Response(bytes as BodyInit, { headers: { 'cache-control': maxAge } }));
    },
    async purge(target) {
      await options.ledger.record(target);
      if (!('keys' in target)) return null;
      let dropped = 0;
      for (const key of target.keys) if (await (await cache()).delete(objectUrl(key))) dropped++;
      return dropped;
    },
  };
}
