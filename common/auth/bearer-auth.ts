import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../http/errors.ts';
import type { ServiceEnvWith } from '../http/service-env.ts';
import { addToWideEvent } from '../http/wide-event.ts';
import { hasAnyRole, type Principal } from './principal.ts';
import type { AccessTokenVerifier } from './verify-access-token.ts';

/** The context variable the middleware sets; a service's own Env includes it. */
export type AuthEnv = ServiceEnvWith<{ principal: Principal | undefined }>;

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

function unauthorized(c: Context, realm: string, message: string, reason: string): never {
  // RFC 6750: tell the client which scheme and what went wrong.
  c.header('WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token", error_description="${reason}"`);
  throw new ApiError({ code: ErrorCode.unauthorized, message, details: { reason } });
}

/**
 * Requires a Keycloak access token that `verifier` accepts; sets `principal` for what follows.
 * 401 without a valid token, 503 when the realm keys cannot be fetched (not the caller's fault).
 * `realm` names the protection space in WWW-Authenticate.
 */
export function requireAccessToken(verifier: AccessTokenVerifier, options: { realm: string }): MiddlewareHandler<AuthEnv> {
  const { realm } = options;
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      c.header('WWW-Authenticate', `Bearer realm="${realm}"`);
      throw new ApiError({ code: ErrorCode.unauthorized, message: 'A bearer access token is required', details: { reason: 'missing_token' } });
    }
    const match = BEARER.exec(header);
    if (!match) unauthorized(c, realm, 'Authorization must be "Bearer <token>"', 'malformed');
    const result = await verifier.verify(match[1]!);
    if (!result.ok) {
      if (result.reason === 'keys_unavailable') {
        throw new ApiError({ code: ErrorCode.service_unavailable, message: 'Token keys are unavailable (Keycloak unreachable)', details: { dependency: 'keycloak' }, retryAfterSeconds: 5 });
      }
      unauthorized(c, realm, `Invalid access token: ${result.detail}`, result.reason);
    }
    c.set('principal', result.principal);
    // No username, and no subject either (a directory person's is f:<provider>:<username>): logs name
    // nobody directly (issue 11). Core adds the caller's owner ref (core/reports/respond.ts actorOwnerRef).
    addToWideEvent(c, { client: result.principal.clientId });
    await next();
  };
}

/** 403 unless the caller verified by requireAccessToken holds one of the realm roles. */
export function requireRole(roles: readonly string[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal || !hasAnyRole(principal, roles)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires one of the roles: ${roles.join(', ')}` });
    }
    await next();
  };
}

/** The verified caller of a route behind requireAccessToken. */
export function getPrincipal(c: { get(key: 'principal'): Principal | undefined }): Principal {
  const principal = c.get('principal');
  // The middleware runs before every protected route; reaching here without it is a wiring bug.
  if (!principal) throw new Error('route is not behind requireAccessToken');
  return principal;
}
