import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { currentSession } from './session/middleware.ts';

/** 403 unless the signed-in person holds the admin realm role (from their verified access token). */
export function requireAdmin(deps: BffDeps): MiddlewareHandler<BffEnv> {
  return async (c, next) => {
    if (!currentSession(c).record.user.roles.includes(deps.config.ADMIN_ROLE)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `Requires the ${deps.config.ADMIN_ROLE} role` });
    }
    await next();
  };
}
