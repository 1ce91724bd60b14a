import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { CoreEnv } from '../context.ts';
import { hasAnyRole, type Principal } from './principal.ts';
import type { AccessTokenVerifier } from './verify-access-token.ts';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

function unauthorized(c: Context, message: string, reason: string): never {
  // RFC 6750: tell the client which scheme and what went wrong.
  c.header('WWW-Authenticate', `Bearer realm="reports-api", error="invalid_token", error_description="${reason}"`);
  throw new ApiError({ code: ErrorCode.unauthorized, message, details: { reason } });
}

/** Requires a verified access token; sets `principal` for the handlers. */
export function requireAccessToken(verifier: AccessTokenVerifier): MiddlewareHandler<CoreEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      c.header('WWW-Authenticate', 'Bearer realm="reports-api"');
      throw new ApiError({ code: ErrorCode.unauthorized, message: 'A bearer access token is required', details: { reason: 'missing_token' } });
    }
    const match = BEARER.exec(header);
    if (!match) unauthorized(c, 'Authorization must be "Bearer <token>"', 'malformed');
    const result = await verifier.verify(match[1]!);
    if (!result.ok) {
      if (result.reason === 'keys_unavailable') {
        throw new ApiError({ code: ErrorCode.service_unavailable, message: 'Token keys are unavailable (Keycloak unreachable)', details: { dependency: 'keycloak' }, retryAfterSeconds: 5 });
      }
      unauthorized(c, `Invalid access token: ${result.detail}`, result.reason);
    }
    c.set('principal', result.principal);
    addToWideEvent(c as never, { user: result.principal.username, client: result.principal.clientId });
    await next();
  };
}

/** 403 unless the verified caller holds one of the roles. */
export function requireRole(roles: readonly string[]): MiddlewareHandler<CoreEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal || !hasAnyRole(principal, roles)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires one of the roles: ${roles.join(', ')}` });
    }
    await next();
  };
}

export function getPrincipal(c: Context<CoreEnv>): Principal {
  const principal = c.get('principal');
  // The middleware runs before every protected route; reaching here without it is a wiring bug.
  if (!principal) throw new Error('route is not behind requireAccessToken');
  return principal;
}
