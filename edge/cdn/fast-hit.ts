import type { CachedObject } from './cache/object-cache.ts';
import { isCompressible, negotiateCoding, type ContentCoding } from './compression.ts';
import type { CdnDeps } from './context.ts';
import { matchesIfNoneMatch } from './etag.ts';
import { builtRepresentation, cacheControlFor, REPORT_VARY, representationOf } from './representation.ts';

/**
 * The answer to the commonest request there is: a fresh cache hit for a link verified before.
 * Synchronous and allocation-light, so the Node and Bun entries can serve it before Hono (and on
 * Node before a Web Request/Response pair is built at all, which was ~16 % of a hit's CPU).
 * Everything else — a link not seen yet, a stale or missing entry, a coding not compressed yet,
 * another route, any error — answers `undefined`, and the entry hands the request to the full app,
 * which verifies, fetches, compresses and fills what this path reads next time.
 *
 * It sends what the full route sends (the parity is a unit test): the representation's headers,
 * Cache-Control bounded by the link's expiry, X-Cache-Status, a fresh x-request-id, CORS for the
 * app origins. Hits are logged one in `CDN_LOG_HIT_SAMPLE` (nginx buffers its access log for the
 * same reason); the line says how many it stands for. The full route logs every request it serves,
 * so errors and slow requests are always logged.
 */
export interface FastHitAnswer {
  status: 200 | 304;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** null for HEAD and 304. */
  body: Uint8Array | null;
}

/** Reads one request header by its lower-case name. */
export type HeaderReader = (lowerCaseName: string) => string | null | undefined;

export type FastHits = (method: string, pathAndQuery: string, header: HeaderReader) => FastHitAnswer | undefined;

/** What the CORS middleware of the full app exposes (edge/cdn/app.ts uses the same list). */
export const REPORT_EXPOSED_HEADERS = ['etag', 'x-cache-status', 'x-request-id', 'content-length', 'last-modified'];
const EXPOSED = REPORT_EXPOSED_HEADERS.join(',');
/** The representation's Vary plus Origin, which the CORS middleware adds on the full route. */
const VARY = `${REPORT_VARY}, Origin`;
const REPORTS = '/reports/';

/** undefined where the cache cannot answer synchronously (the Cache API on Deno and workerd). */
export function createFastHits(deps: CdnDeps, options: { generateId?: () => string; now?: () => number } = {}): FastHits | undefined {
  const { cache, config, compressor, logger } = deps;
  const peek = cache.peek;
  const peekVariant = cache.peekVariant;
  if (!peek || !peekVariant) return undefined;
  const generateId = options.generateId ?? (() => crypto.randomUUID());
  const clock = options.now ?? (() => performance.now());
  const freshMs = config.CDN_FRESH_SECONDS * 1000;
  const allowedOrigins = new Set(config.ALLOWED_ORIGINS);
  const sampleEvery = config.CDN_LOG_HIT_SAMPLE;
  const runtimeEncodes = compressor.encodesResponses === true;
  const compressible = new WeakMap<CachedObject, boolean>();
  // Clients send a handful of distinct Accept-Encoding values; parse each once.
  const codings = new Map<string, ContentCoding | 'identity'>();
  const codingFor = (acceptEncoding: string | null | undefined) => {
    const header = acceptEncoding ?? '';
    let coding = codings.get(header);
    if (coding === undefined) {
      coding = negotiateCoding(header, compressor.codings);
      if (codings.size < 256) codings.set(header, coding);
    }
    return coding;
  };
  let sinceLogged = 0;

  return (method, pathAndQuery, header) => {
    if ((method !== 'GET' && method !== 'HEAD') || !pathAndQuery.startsWith(REPORTS)) return undefined;
    const nowMs = deps.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const link = deps.links.lookup(pathAndQuery, nowSeconds);
    if (!link) return undefined;
    const object = peek(link.key);
    if (!object || nowMs - object.storedAtMs >= freshMs) return undefined;
    let canCompress = compressible.get(object);
    if (canCompress === undefined) {
      canCompress = isCompressible(object.contentType, object.body.byteLength);
      compressible.set(object, canCompress);
    }
    const coding = canCompress ? codingFor(header('accept-encoding')) : 'identity';
    let representation = builtRepresentation(object, coding);
    if (!representation) {
      const body = coding === 'identity' || runtimeEncodes ? object.body : peekVariant(link.key, object.etag, coding);
      if (!body) return undefined;
      representation = representationOf(object, coding, body, runtimeEncodes);
    }
    const sampled = ++sinceLogged >= sampleEvery;
    const started = sampled ? clock() : 0;
    const requestId = generateId();
    const notModified = matchesIfNoneMatch(header('if-none-match') ?? undefined, object.etag);
    const headers: Record<string, string> = {
      ...(notModified ? representation.notModified : representation.ok),
      vary: VARY,
      'cache-control': cacheControlFor(config.CDN_BROWSER_MAX_AGE_SECONDS, link.expiresAtSeconds, nowSeconds),
      'x-cache-status': 'HIT',
      'x-request-id': requestId,
      'access-control-expose-headers': EXPOSED,
    };
    const origin = header('origin');
    if (origin && allowedOrigins.has(origin)) headers['access-control-allow-origin'] = origin;
    const status = notModified ? 304 : 200;
    if (sampled) {
      sinceLogged = 0;
      const query = pathAndQuery.indexOf('?');
      logger.info('http.request', {
        requestId,
        method,
        path: query < 0 ? pathAndQuery : pathAndQuery.slice(0, query),
        status,
        durationMs: Math.round((clock() - started) * 100) / 100,
        cache: 'HIT',
        key: link.key,
        // One line stands for this many hits.
        sampled: sampleEvery,
      });
    }
    return { status, headers, body: notModified || method === 'HEAD' ? null : representation.body };
  };
}
