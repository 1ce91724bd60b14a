import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { storeKeys, type EdgeStore } from '../store/store.ts';

export interface WindowLimit {
  store: EdgeStore;
  /** Names the limited surface in the store key (`auth`, `api`). */
  scope: string;
  limit: number;
  windowSeconds: number;
  now: () => number;
}

export interface WindowCount {
  limit: number;
  remaining: number;
  /** Set once the limit is exceeded: seconds until the window turns. */
  retryAfterSeconds?: number;
}

/**
 * Counts one hit for `subject` in the current fixed window, in the shared store so every edge
 * process sees the same count (one atomic increment, no read before it).
 */
export async function countHit(options: WindowLimit, subject: string): Promise<WindowCount> {
  const windowMs = options.windowSeconds * 1000;
  const at = options.now();
  const window = Math.floor(at / windowMs);
  const count = await options.store.increment(storeKeys.rateLimit(options.scope, subject, window), options.windowSeconds);
  const result: WindowCount = { limit: options.limit, remaining: Math.max(0, options.limit - count) };
  if (count > options.limit) result.retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - at) / 1000));
  return result;
}

/** Sets the RateLimit-* headers and, past the limit, the 429 to throw (Retry-After set by the error handler). */
export function applyCount(c: Context, count: WindowCount, scope: string): ApiError | undefined {
  c.header('RateLimit-Limit', String(count.limit));
  c.header('RateLimit-Remaining', String(count.remaining));
  if (count.retryAfterSeconds === undefined) return undefined;
  return new ApiError({ code: ErrorCode.too_many_requests, message: 'Too many requests; slow down', details: { scope }, retryAfterSeconds: count.retryAfterSeconds });
}

export interface RateLimitOptions extends WindowLimit {
  /** The client's address; requests without one share the `unknown` bucket. */
  clientOf: (c: Context) => string | undefined;
  /** Paths under the limited prefix that are not counted. */
  exemptPaths?: readonly string[];
}

/**
 * Fixed-window limit per client address. Answers 429 with Retry-After until the window turns.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const exempt = new Set(options.exemptPaths ?? []);
  return async (c, next) => {
    if (exempt.has(c.req.path)) return next();
    const refused = applyCount(c, await countHit(options, options.clientOf(c) ?? 'unknown'), options.scope);
    if (refused) throw refused;
    await next();
  };
}

/** X-Forwarded-For's first hop when the deployment says a trusted proxy sets it, else the peer address. */
export function clientAddressOf(trustForwardedFor: boolean, peer: (c: Context) => string | undefined): (c: Context) => string | undefined {
  return (c) => {
    if (trustForwardedFor) {
      const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
      if (first && /^[0-9a-fA-F:.]{2,45}$/.test(first)) return first;
    }
    return peer(c);
  };
}
