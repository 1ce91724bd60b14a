import type { ContentCoding } from '../compression.ts';

/** One cached report object (its identity bytes) and what revalidation needs. */
export interface CachedObject {
  key: string;
  body: Uint8Array;
  /** Our strong validator: a hash of the bytes, independent of the origin's ETag format. */
  etag: string;
  originEtag: string | null;
  contentType: string;
  lastModified: string | null;
  /** When the bytes were last fetched or confirmed by the origin: freshness counts from here. */
  storedAtMs: number;
}

export type PurgeTarget = { all: true } | { prefixes: string[] } | { keys: string[] };

/**
 * Where the CDN keeps objects: the in-memory LRU (Node, Bun) or the runtime's Cache API (workerd,
 * Deno). Compressed variants are stored beside the object, keyed by its etag so a variant can
 * never outlive the bytes it was made from.
 */
export interface ObjectCache {
  get(key: string): Promise<CachedObject | undefined>;
  put(object: CachedObject): Promise<void>;
  getVariant(key: string, etag: string, coding: ContentCoding): Promise<Uint8Array | undefined>;
  putVariant(key: string, etag: string, coding: ContentCoding, bytes: Uint8Array): Promise<void>;
  /** Drops matching entries; answers how many, or null when the backend cannot count. */
  purge(target: PurgeTarget): Promise<number | null>;
  /**
   * Synchronous reads, for caches that hold objects in process (the in-memory LRU): the fast path
   * for hits uses them and leaves everything else to the full route. Same object as `get` answers.
   */
  peek?(key: string): CachedObject | undefined;
  peekVariant?(key: string, etag: string, coding: ContentCoding): Uint8Array | undefined;
}

/** Whether a purge target covers a key. */
export function purgeCovers(target: PurgeTarget, key: string): boolean {
  if ('all' in target) return true;
  if ('keys' in target) return target.keys.includes(key);
  return target.prefixes.some((prefix) => key.startsWith(prefix));
}
