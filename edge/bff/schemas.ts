import { z } from '@hono/zod-openapi';
import { ErrorCode } from '../../common/http/errors.ts';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

export const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

export const sessionErrors = {
  401: errorResponse('No session, an invalid or expired one (`details.reason`: no_session, invalid_session, session_expired)'),
  429: errorResponse('Too many /auth requests from this address; see Retry-After'),
  503: errorResponse('Session store or Keycloak unavailable; see Retry-After'),
} as const;

export const originErrors = {
  403: errorResponse('Missing or foreign Origin on a state-changing request'),
} as const;
