import type { BffDeps } from './context.ts';
import { applyCount, countHit } from '../security/rate-limit.ts';
import type { AlongsideSessionRead } from './session/middleware.ts';

/**
 * /api/* per session: API_RATE_LIMIT calls per API_RATE_WINDOW_SECONDS, counted in the store so
 * every edge process shares the count; 429 with Retry-After past it. Keyed by the session id and
 * counted alongside the session read (the store pipelines both), so the limit adds no round trip;
 * it is enforced only for a cookie that proved to be a live session, which gets its 401 first.
 */
export function countApiRequest(deps: BffDeps): AlongsideSessionRead {
  const limit = { store: deps.store, scope: 'api', limit: deps.config.API_RATE_LIMIT, windowSeconds: deps.config.API_RATE_WINDOW_SECONDS, now: deps.now };
  return async (c, sessionId) => applyCount(c, await countHit(limit, sessionId), 'api');
}
