import type { CachedObject } from './cache/object-cache.ts';
import type { ContentCoding } from './compression.ts';
import { representationEtag } from './etag.ts';

/**
 * What a cache hit sends, built once per cached object and coding rather than per request: the
 * body bytes and every header that depends only on them. Per request only Cache-Control (bounded
 * by the link's expiry), X-Cache-Status, the request id and CORS are added.
 *
 * Kept in a WeakMap on the cached object: the in-memory LRU hands out the same object while it
 * holds it, so the headers live exactly as long as the entry (an evicted or replaced object takes
 * its representations with it). The Cache API (Deno, workerd) makes a new object per read, so
 * there it is built per request, as before.
 */
export interface Representation {
  coding: ContentCoding | 'identity';
  /** null for a HEAD request is decided by the caller; this is the body of a GET. */
  body: Uint8Array;
  etag: string;
  /** Headers of a 200 (lower-case names), Content-Length included where the bytes are final. */
  ok: Readonly<Record<string, string>>;
  /** Headers of a 304: the validators and caching headers, no Content-*. */
  notModified: Readonly<Record<string, string>>;
}

/** Per-person documents: shared caches downstream must not keep them; browsers briefly may. */
export const REPORT_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
} as const;

/** Origin is added by the CORS middleware on the Hono path and by the fast path itself. */
export const REPORT_VARY = 'Accept-Encoding';

const built = new WeakMap<CachedObject, Map<string, Representation>>();

/**
 * The representation of `object` in `coding`, with `body` the bytes to send (the compressed
 * variant, or the identity bytes when the runtime encodes responses itself: `runtimeEncodes`).
 */
export function representationOf(object: CachedObject, coding: ContentCoding | 'identity', body: Uint8Array, runtimeEncodes = false): Representation {
  let byCoding = built.get(object);
  const existing = byCoding?.get(coding);
  if (existing && existing.body === body) return existing;
  // A runtime that re-encodes responses itself (workerd) owns the representation; it weakens the tag when it compresses.
  const etag = representationEtag(object.etag, runtimeEncodes ? 'identity' : coding);
  const notModified: Record<string, string> = { etag, vary: REPORT_VARY, ...REPORT_SECURITY_HEADERS };
  if (object.lastModified) notModified['last-modified'] = object.lastModified;
  const ok: Record<string, string> = { ...notModified, 'content-type': object.contentType };
  if (coding !== 'identity') ok['content-encoding'] = coding;
  if (!runtimeEncodes) ok['content-length'] = String(body.byteLength);
  const representation: Representation = { coding, body, etag, ok, notModified };
  if (!byCoding) {
    byCoding = new Map();
    built.set(object, byCoding);
  }
  byCoding.set(coding, representation);
  return representation;
}

/** The already built representation, if any (the fast path never builds one itself). */
export function builtRepresentation(object: CachedObject, coding: ContentCoding | 'identity'): Representation | undefined {
  return built.get(object)?.get(coding);
}

/** `private, max-age=…`, never past the link's expiry; the common value is a constant string. */
export function cacheControlFor(browserMaxAgeSeconds: number, expiresAtSeconds: number, nowSeconds: number): string {
  const maxAge = Math.max(0, Math.min(browserMaxAgeSeconds, expiresAtSeconds - nowSeconds));
  return maxAge === browserMaxAgeSeconds ? privateMaxAge(browserMaxAgeSeconds) : `private, max-age=${maxAge}`;
}

const privateMaxAgeStrings = new Map<number, string>();
function privateMaxAge(seconds: number): string {
  let value = privateMaxAgeStrings.get(seconds);
  if (!value) {
    value = `private, max-age=${seconds}`;
    privateMaxAgeStrings.set(seconds, value);
  }
  return value;
}
