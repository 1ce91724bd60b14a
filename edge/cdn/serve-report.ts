import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { CachedObject } from './cache/object-cache.ts';
import { isCompressible, negotiateCoding, type ContentCoding } from './compression.ts';
import { matchesIfNoneMatch } from './etag.ts';
import { builtRepresentation, cacheControlFor, representationOf, type Representation } from './representation.ts';
import type { CdnDeps, CdnEnv } from './context.ts';
import { OriginUnavailable } from './s3-origin.ts';
import { waitUntilOf } from '../wait-until.ts';

export const serveReportRoute = createRoute({
  method: 'get',
  path: '/reports/{key}',
  tags: ['cdn'],
  summary: 'A report object by signed URL (core hands these out); cached, compressed, revalidated',
  request: {
    params: z.object({ key: z.string().openapi({ description: 'S3 object key, slashes included', example: 'k3vq7m2x5ahp4wdy6n3tc2fz7e4rbj5s/daily/2026-11-24/report.json' }) }),
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

/** The representation for `coding`: built once per cached object; a compressed variant made once and cached beside it. */
async function representationFor(deps: CdnDeps, object: CachedObject, coding: ContentCoding | 'identity'): Promise<Representation> {
  const runtimeEncodes = deps.compressor.encodesResponses === true;
  const existing = builtRepresentation(object, coding);
  if (existing) return existing;
  if (coding === 'identity' || runtimeEncodes) return representationOf(object, coding, object.body, runtimeEncodes);
  let body = await deps.cache.getVariant(object.key, object.etag, coding);
  if (!body) {
    body = await deps.compressor.compress(object.body, coding);
    await deps.cache.putVariant(object.key, object.etag, coding, body);
  }
  return representationOf(object, coding, body);
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
    const check = await deps.links.verify(url, nowSeconds);
    if (!check.ok) {
      addToWideEvent(c, { signature: check.reason });
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
    addToWideEvent(c, { cache: status, key: check.key });

    const coding = isCompressible(object.contentType, object.body.byteLength) ? negotiateCoding(c.req.header('accept-encoding'), deps.compressor.codings) : 'identity';
    const representation = await representationFor(deps, object, coding);
    const cacheControl = cacheControlFor(config.CDN_BROWSER_MAX_AGE_SECONDS, Number(url.searchParams.get('exp')), nowSeconds);
    const notModified = matchesIfNoneMatch(c.req.header('if-none-match'), object.etag);
    const headers: Record<string, string> = { ...(notModified ? representation.notModified : representation.ok), 'cache-control': cacheControl, 'x-cache-status': status };
    if (notModified) return new Response(null, { status: 304, headers });
    const head = c.req.method === 'HEAD';
    // encodeBody 'manual': workerd would otherwise compress a body that already is (other runtimes ignore it).
    const init = deps.compressor.encodesResponses ? { status: 200, headers } : ({ status: 200, headers, encodeBody: 'manual' } as ResponseInit);
    return new Response(head ? null : (representation.body as BodyInit), init);
  });
}
