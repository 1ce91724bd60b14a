import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { ErrorCode } from './errors.ts';

/** The error envelope (errors.ts#ErrorBody) as every service's OpenAPI document describes it. */
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

/** A documented error response of a route: the envelope, with what this status means there. */
export function errorResponseDoc(description: string) {
  return { description, content: { 'application/json': { schema: ErrorSchema } } };
}

/**
 * The error responses of a route behind a bearer token (requireAccessToken, requireRole), one
 * wording for every service; `unavailable` says what a 503 there depends on.
 */
export function bearerErrorDocs(unavailable: string) {
  return {
    401: errorResponseDoc('Missing, malformed, expired or otherwise invalid access token'),
    403: errorResponseDoc('The token lacks the role this operation needs'),
    503: errorResponseDoc(unavailable),
  } as const;
}

/** The security requirement of a route behind a Keycloak access token. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** Declares the `bearerAuth` scheme that `bearerSecurity` refers to. */
export function registerBearerAuthScheme<E extends Env>(app: OpenAPIHono<E>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
}
