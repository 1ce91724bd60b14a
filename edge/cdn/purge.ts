import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { PURGE_NONCE_HEADER, PURGE_SIGNATURE_HEADER, PURGE_TIMESTAMP_HEADER, verifyPurgeRequest } from '../../common/cdn/signing.ts';
import { readRequestTextWithin } from '../../common/http/body-limit.ts';
import { ApiError, ErrorCode, describeZodIssues } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { storeKeys } from '../store/store.ts';
import type { PurgeTarget } from './cache/object-cache.ts';
import type { CdnDeps, CdnEnv } from './context.ts';

const MAX_BODY_BYTES = 64 * 1024;
/** A key or prefix as core writes them: no `..`, nothing that needs encoding. */
const KEY_OR_PREFIX = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@\/-]*$/, 'not an object key or prefix')
  .refine((value) => !value.split('/').some((segment) => segment === '..' || segment === '.'), 'no dot segments');

export const PurgeRequestSchema = z
  .union([
    z.object({ all: z.literal(true) }).strict(),
    z.object({ prefixes: z.array(KEY_OR_PREFIX).min(1).max(1000) }).strict(),
    z.object({ keys: z.array(KEY_OR_PREFIX).min(1).max(1000) }).strict(),
  ])
  .openapi('PurgeRequest', { example: { prefixes: ['k3vq7m2x5ahp4wdy6n3tc2fz7e4rbj5s/'] } });

export const PurgeResponseSchema = z
  .object({
    purged: PurgeRequestSchema,
    dropped: z.number().int().nullable().openapi({ description: 'Entries dropped here; null when the cache cannot count (Cache API prefix purges)' }),
  })
  .openapi('PurgeResponse');
export type PurgeResponse = z.infer<typeof PurgeResponseSchema>;

const errorBody = { content: { 'application/json': { schema: z.object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) }) } } };

export const purgeRoute = createRoute({
  method: 'post',
  path: '/purge',
  tags: ['cdn'],
  summary: 'Drops cached report objects by key, prefix or all (HMAC-signed by core, see common/cdn/signing.ts)',
  request: {
    headers: z.object({
      [PURGE_TIMESTAMP_HEADER]: z.string().optional().openapi({ description: 'Unix seconds the request was signed at' }),
      [PURGE_NONCE_HEADER]: z.string().optional().openapi({ description: 'base64url, 22-64 characters, new for every request: a request is accepted once' }),
      [PURGE_SIGNATURE_HEADER]: z.string().optional().openapi({ description: 'base64url HMAC-SHA256 over method, path, timestamp, nonce and body' }),
    }),
    body: { required: true, content: { 'application/json': { schema: PurgeRequestSchema } } },
  },
  responses: {
    200: { description: 'Purged', content: { 'application/json': { schema: PurgeResponseSchema } } },
    401: { description: 'Missing, stale or wrong signature', ...errorBody },
    409: { description: 'Replayed: this nonce was already used (details.reason "replayed")', ...errorBody },
    413: { description: 'Body above 64 KiB', ...errorBody },
    422: { description: 'Body is not a purge request', ...errorBody },
  },
});

/**
 * The signature covers the exact body bytes, so the body is read as text and verified before it
 * is parsed; the route's schema documents the shape and the same schema checks it afterwards.
 * The read is bounded (common/http/body-limit.ts): the route is unauthenticated until the
 * signature holds, so a chunked body is cut off at 64 KiB instead of being buffered whole.
 */
/** What a purge may log: which kind of target and how many entries, never the entries. */
export function describePurgeTarget(target: PurgeTarget): { kind: 'all' | 'prefixes' | 'keys'; count: number | null } {
  if ('all' in target) return { kind: 'all', count: null };
  if ('prefixes' in target) return { kind: 'prefixes', count: target.prefixes.length };
  return { kind: 'keys', count: target.keys.length };
}

export function registerPurge(app: OpenAPIHono<CdnEnv>, deps: CdnDeps): void {
  app.post(purgeRoute.path, async (c) => {
    const body = await readRequestTextWithin(c.req.raw, MAX_BODY_BYTES);
    const nowSeconds = Math.floor(deps.now() / 1000);
    const check = await verifyPurgeRequest(c.req.raw.headers, body, deps.config.CDN_SIGNING_KEY, nowSeconds, deps.config.CDN_PURGE_WINDOW_SECONDS);
    if (!check.ok) {
      c.header('WWW-Authenticate', 'HMAC realm="cdn-purge"');
      throw new ApiError({ code: ErrorCode.unauthorized, message: 'Purge requests must be signed with the CDN signing key', details: { reason: check.reason } });
    }
    // Claimed only after the signature holds, so unsigned traffic cannot fill the store; kept until
    // the timestamp alone would refuse the request (+1 s for the window's inclusive edge).
    const claimSeconds = Math.max(1, check.nonceExpiresAtSeconds - nowSeconds + 1);
    if (!(await deps.store.setIfAbsent(storeKeys.cdnPurgeNonce(check.nonce), String(nowSeconds), claimSeconds))) {
      throw new ApiError({ code: ErrorCode.conflict, message: 'This signed purge request was already used; sign a new one (new nonce)', details: { reason: 'replayed' } });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ApiError({ code: ErrorCode.unprocessable, message: 'Purge body is not JSON' });
    }
    const parsed = PurgeRequestSchema.safeParse(json);
    if (!parsed.success) throw new ApiError({ code: ErrorCode.unprocessable, message: 'Invalid purge request', details: describeZodIssues(parsed.error) });
    const target = parsed.data as PurgeTarget;
    deps.reports.notePurge();
    const dropped = await deps.cache.purge(target);
    // Other workers of this edge hold their own copies; answer once they have dropped them too.
    await deps.peers?.purge(target);
    // Kind and count only: prefixes from older callers were usernames, keys are owner refs.
    const summary = describePurgeTarget(target);
    addToWideEvent(c, { purge: summary, dropped });
    deps.logger.info('cdn.purged', { ...summary, dropped });
    return c.json({ purged: parsed.data, dropped }, 200);
  });
}
