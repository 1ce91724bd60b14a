import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import type { Logger } from '../log.ts';
import { getRequestId } from './request-id.ts';

/** The machine-readable error codes every service answers with. */
export const ErrorCode = {
  bad_request: 'bad_request',
  unauthorized: 'unauthorized',
  /** The BFF's session ended (idle, absolute lifetime, or a refresh Keycloak refused): sign in again. */
  session_expired: 'session_expired',
  forbidden: 'forbidden',
  not_found: 'not_found',
  method_not_allowed: 'method_not_allowed',
  conflict: 'conflict',
  /** If-Match named a version that is no longer current (a lost update was prevented). */
  precondition_failed: 'precondition_failed',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'unsupported_media_type',
  unprocessable: 'unprocessable',
  /** An update came without If-Match. */
  precondition_required: 'precondition_required',
  too_many_requests: 'too_many_requests',
  internal: 'internal',
  bad_gateway: 'bad_gateway',
  service_unavailable: 'service_unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  session_expired: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  precondition_required: 428,
  too_many_requests: 429,
  internal: 500,
  bad_gateway: 502,
  service_unavailable: 503,
};

export function codeToStatus(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/** Maps any HTTP status onto the closest code (used for Hono's own HTTPExceptions). */
export function statusToCode(status: number): ErrorCode {
  const exact = (Object.keys(STATUS) as ErrorCode[]).find((code) => STATUS[code] === status);
  if (exact) return exact;
  return status >= 500 ? ErrorCode.internal : ErrorCode.bad_request;
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: unknown;
    requestId: string;
  };
}

export interface ApiErrorOptions {
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** Sent as Retry-After on 429/503 so clients back off instead of hammering a dependency. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** The error handlers throw at the HTTP edge; `onError` renders it as the envelope. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(options: ApiErrorOptions) {
    super(codeToStatus(options.code), { message: options.message, cause: options.cause });
    this.name = 'ApiError';
    this.code = options.code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Builds the envelope response; also used by handlers that answer an error without throwing. */
export function errorResponse(
  c: Context,
  code: ErrorCode,
  message: string,
  details?: unknown,
  retryAfterSeconds?: number,
): Response {
  const body: ErrorBody = { error: { code, message, requestId: getRequestId(c) } };
  if (details !== undefined) body.error.details = details;
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(Math.ceil(retryAfterSeconds)));
  return c.json(body, codeToStatus(code));
}

/**
 * Three tiers: our ApiError (rendered as-is), Hono's HTTPException (status kept, code derived),
 * anything else (logged with its stack, answered as a bare 500 so internals never leak).
 */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiError) {
      if (err.status >= 500) logger.warn('request.failed', { requestId: getRequestId(c), code: err.code, message: err.message, cause: describeCause(err.cause) });
      return errorResponse(c, err.code, err.message, err.details, err.retryAfterSeconds);
    }
    if (err instanceof HTTPException) {
      const code = statusToCode(err.status);
      return errorResponse(c, code, err.message || code);
    }
    logger.error('request.unhandled_error', {
      requestId: getRequestId(c),
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
    return errorResponse(c, ErrorCode.internal, 'Internal server error');
  };
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

/** Compact, client-safe view of zod issues: where and what, never the rejected value itself. */
export function describeZodIssues(error: ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/**
 * The `defaultHook` for OpenAPIHono: a schema failure becomes the envelope (400 for params, query
 * and headers; 422 for a well-formed body whose content is invalid).
 */
export function validationHook(
  result: { success: true; data: unknown; target: string } | { success: false; error: ZodError; target: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const code = result.target === 'json' || result.target === 'form' ? ErrorCode.unprocessable : ErrorCode.bad_request;
  return errorResponse(c, code, `Invalid ${result.target}`, describeZodIssues(result.error));
}

/** 404 for unknown routes, in the envelope. */
export function notFoundHandler(c: Context): Response {
  return errorResponse(c, ErrorCode.not_found, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
}
