import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated routes: a state-changing request must carry an Origin
 * header naming one of our own origins. Browsers always send Origin on cross-site POSTs and on
 * fetch/XHR; a request without one is refused rather than guessed about.
 */
export function requireAllowedOrigin(allowedOrigins: readonly string[], options: { serverToServerPaths?: readonly string[] } = {}): MiddlewareHandler {
  const allowed = new Set(allowedOrigins);
  // Routes a server calls (Keycloak's back-channel logout): no cookie authenticates them, a signed token in the body does.
  const exempt = new Set(options.serverToServerPaths ?? []);
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method) && !exempt.has(c.req.path)) {
      const origin = c.req.header('origin');
      if (!origin) {
        throw new ApiError({ code: ErrorCode.forbidden, message: 'State-changing requests need an Origin header', details: { reason: 'origin_missing' } });
      }
      if (!allowed.has(origin)) {
        throw new ApiError({ code: ErrorCode.forbidden, message: 'Cross-site request refused', details: { reason: 'origin_not_allowed' } });
      }
    }
    await next();
  };
}
