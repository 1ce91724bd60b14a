import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { storeKeys, type EdgeStore } from '../store/store.ts';

export interface RateLimitOptions {
  store: EdgeStore;
  /** Names the limited surface in the store key (`auth`). */
  scope: string;
  limit: number;
  windowSeconds: number;
  now: () => number;
  /** The client's address; requests without one share the `unknown` bucket. */
  clientOf: (c: Context) => string | undefined;
}

/**
 * Fixed-window limit per client address, counted in the shared store so every edge process sees
 * the same count. Answers 429 with Retry-After until the window turns.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const windowMs = options.windowSeconds * 1000;
  return async (c, next) => {
    const at = options.now();
    const window = Math.floor(at / windowMs);
    const client = options.clientOf(c) ?? 'unknown';
    const count = await options.store.increment(storeKeys.rateLimit(options.scope, client, window), options.windowSeconds);
    const remaining = Math.max(0, options.limit - count);
    c.header('RateLimit-Limit', String(options.limit));
    c.header('RateLimit-Remaining', String(remaining));
    if (count > options.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - at) / 1000));
      throw new ApiError({ code: ErrorCode.too_many_requests, message: 'Too many requests; slow down', details: { scope: options.scope }, retryAfterSeconds });
    }
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
