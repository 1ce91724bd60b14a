import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { hasAnyRole, type Principal } from '../../core/auth/principal.ts';
import type { AccessTokenVerifier } from '../../core/auth/verify-access-token.ts';

export type JobsEnv = { Variables: { requestId: string; principal: Principal | undefined } };

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

function unauthorized(c: Context, message: string, reason: string): never {
  c.header('WWW-Authenticate', `Bearer realm="reports-jobs", error="invalid_token", error_description="${reason}"`);
  throw new ApiError({ code: ErrorCode.unauthorized, message, details: { reason } });
}

/**
 * A Keycloak access token (verified against the realm JWKS by core's verifier: RS256, issuer,
 * audience, azp) carrying one of `roles` as a realm role; 401 without a valid token, 403 without
 * the role, 503 when the realm keys cannot be fetched.
 */
export function requireRole(verifier: AccessTokenVerifier, roles: readonly string[]): MiddlewareHandler<JobsEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      c.header('WWW-Authenticate', 'Bearer realm="reports-jobs"');
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
    addToWideEvent(c as never, { user: result.principal.username, client: result.principal.clientId });
    if (!hasAnyRole(result.principal, roles)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires one of the roles: ${roles.join(', ')}` });
    }
    c.set('principal', result.principal);
    await next();
  };
}
