import type { Context, MiddlewareHandler } from 'hono';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { hasAnyRole } from '../../common/auth/principal.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import type { CoreEnv } from '../context.ts';

export const CRM_OPERATOR_ROLE = 'crm_operator';
export const REGIONS = ['ru', 'eu'] as const;
export type Region = (typeof REGIONS)[number];

/** The signed-in CRM operator: who, and the one region whose customers they may see and change. */
export interface Operator {
  username: string;
  region: Region;
  requestId: string;
}

function isRegion(value: string | undefined): value is Region {
  return value === 'ru' || value === 'eu';
}

/**
 * 403 unless the token carries the crm_operator role and a region Keycloak set from the person's
 * directory (the `region` claim). The region never comes from the request.
 */
export function requireOperator(): MiddlewareHandler<CoreEnv> {
  return async (c, next) => {
    const principal = getPrincipal(c);
    if (!hasAnyRole(principal, [CRM_OPERATOR_ROLE])) {
      throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires the role ${CRM_OPERATOR_ROLE}` });
    }
    if (!isRegion(principal.region)) {
      throw new ApiError({ code: ErrorCode.forbidden, message: 'The access token carries no region (ru or eu) for this operator', details: { reason: 'no_region' } });
    }
    await next();
  };
}

export function getOperator(c: Context<CoreEnv>): Operator {
  const principal = getPrincipal(c);
  // requireOperator ran before every CRM route; a missing region here is a wiring bug.
  if (!isRegion(principal.region)) throw new Error('CRM route is not behind requireOperator');
  return { username: principal.username, region: principal.region, requestId: c.get('requestId') };
}
