import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { verifyReportUrl } from '../../common/cdn/signing.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { CachedObject } from './cache/object-cache.ts';
import { isCompressible, negotiateCoding, type ContentCoding } from './compression.ts';
import { matchesIfNoneMatch, representationEtag } from './etag.ts';
import type { CdnDeps, CdnEnv } from './context.ts';
import { OriginUnavailable } from './s3-origin.ts';
import { waitUntilOf } from '../wait-until.ts';

export const serveReportRoute = createRoute({
  method: 'get',
  path: '/reports/{key}',
  tags: ['cdn'],
  summary: 'A report object by signed URL (core hands these out); cached, compressed, revalidated',
  request: {
    params: z.object({ key: z.string().openapi({ description: 'S3 object key, slashes included', example: 'ivan.petrov/daily/2026-11-24/report.json' }) }),
    query: z.object({ exp: z.string().openapi({ description: 'Unix seconds the link expires' }), sig: z.string().openapi({ description: 'base64url HMAC-SHA256 of GET, path and exp' }) }),
  },
  responses: {
    200: { description: 'The object; X-Cache-Status HIT, MISS, STALE or REVALIDATED' },
    304: { description: 'If-None-Match matched' },
    403: { description: 'Malformed, tampered or expired link' },
    404: { description: 'No such object' },
    502: { description: 'S3 unavailable and no stale copy' },
  },
});

async function bodyFor(deps: CdnDeps, object: CachedObject, coding: ContentCoding | 'identity'): Promise<Uint8Array> {
  if (coding === 'identity') return object.body;
  const cached = await deps.cache.getVariant(object.key, object.etag, coding);
  if (cached) return cached;
  const compressed = await deps.compressor.compress(object.body, coding);
  await deps.cache.putVariant(object.key, object.etag, coding, compressed);
  return compressed;
}

/**
 * GET/HEAD /reports/{key}?exp&sig: a report object by signed URL. The key may contain slashes, so
 * this is a plain wildcard route rather than an OpenAPI one. The cache key is the object key alone:
 * every signed URL for one object shares the cached copy.
 */
export function registerServeReport(app: OpenAPIHono<CdnEnv>, deps: CdnDeps): void {
  const { config } = deps;
  app.on(['GET', 'HEAD'], '/reports/*', async (c) => {
    const nowSeconds = Math.floor(deps.now() / 1000);
    const url = new URL(c.req.url);
    const check = await verifyReportUrl(url, config.CDN_SIGNING_KEY, nowSeconds);
    if (!check.ok) {
      addToWideEvent(c as never, { signature: check.reason });
      throw new ApiError({ code: ErrorCode.forbidden, message: check.reason === 'expired' ? 'This report link has expired' : 'Invalid report link', details: { reason: check.reason } });
    }
    let result;
    try {
      result = await deps.reports.read(check.key, waitUntilOf(c));
    } catch (error) {
      if (error instanceof OriginUnavailable) {
        throw new ApiError({ code: ErrorCode.bad_gateway, message: 'Report storage unavailable', details: { dependency: 's3' }, retryAfterSeconds: 5, cause: error });
      }
      throw error;
    }
    if (!result.found) throw new ApiError({ code: ErrorCode.not_found, message: 'No such report object' });
    const { object, status } = result;
    addToWideEvent(c as never, { cache: status, key: check.key });

    const coding = isCompressible(object.contentType, object.body.byteLength) ? negotiateCoding(c.req.header('accept-encoding'), deps.compressor.codings) : 'identity';
    const maxAge = Math.max(0, Math.min(config.CDN_BROWSER_MAX_AGE_SECONDS, Number(url.searchParams.get('exp')) - nowSeconds));
    const headers = new Headers({
      // A runtime that re-encodes responses itself (workerd) owns the representation; it weakens the tag when it compresses.
      ETag: representationEtag(object.etag, deps.compressor.encodesResponses ? 'identity' : coding),
      // Per-person documents: a shared cache downstream must not keep them, the browser briefly may.
      'Cache-Control': `private, max-age=${maxAge}`,
      Vary: 'Accept-Encoding, Origin',
      'X-Cache-Status': status,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
    });
    if (object.lastModified) headers.set('Last-Modified', object.lastModified);

    if (matchesIfNoneMatch(c.req.header('if-none-match'), object.etag)) return new Response(null, { status: 304, headers });
    headers.set('Content-Type', object.contentType);
    if (coding !== 'identity') headers.set('Content-Encoding', coding);
    const head = c.req.method === 'HEAD';
    if (deps.compressor.encodesResponses) return new Response(head ? null : (object.body as BodyInit), { status: 200, headers });
    const body = await bodyFor(deps, object, coding);
    headers.set('Content-Length', String(body.byteLength));
    // encodeBody 'manual': workerd would otherwise compress a body that already is (other runtimes ignore it).
    return new Response(head ? null : (body as BodyInit), { status: 200, headers, encodeBody: 'manual' } as ResponseInit);
  });
}
