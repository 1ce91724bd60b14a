import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { freshSession } from './session/middleware.ts';

/**
 * 403 unless the signed-in person holds the admin realm role. The role is read from an access
 * token that has not expired — refreshed first if it has (or is about to), so it is at most one
 * access-token lifetime old (5 minutes in the realm) — never from the roles a session was given at
 * login: a demoted administrator loses admin actions at the next refresh, a disabled one their
 * session (Keycloak refuses the refresh → 401 session_expired).
 */
export function requireAdmin(deps: BffDeps): MiddlewareHandler<BffEnv> {
  return async (c, next) => {
    const fresh = await freshSession(c, deps);
    // The record's roles are the realm roles of exactly this access token (set on every refresh from the verified token).
    if (!fresh.session.record.user.roles.includes(deps.config.ADMIN_ROLE)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `Requires the ${deps.config.ADMIN_ROLE} role` });
    }
    await next();
  };
}
