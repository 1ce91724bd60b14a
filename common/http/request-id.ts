import type { MiddlewareHandler } from 'hono';
import type { HasRequestId, ServiceEnv } from './service-env.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Conservative shape: long enough to be unique, nothing that could smuggle into logs or headers. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function isSaneRequestId(value: string | null | undefined): value is string {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value);
}

export interface RequestIdOptions {
  /** Accept the caller's x-request-id (true behind a trusted upstream such as the edge). */
  trustIncoming: boolean;
  /** Injected for tests; defaults to crypto.randomUUID. */
  generate?: () => string;
}

/** Sets `requestId` on the context and echoes it on every response, errors included. */
export function requestId(options: RequestIdOptions): MiddlewareHandler<ServiceEnv> {
  const generate = options.generate ?? (() => crypto.randomUUID());
  return async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = options.trustIncoming && isSaneRequestId(incoming) ? incoming : generate();
    c.set('requestId', id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
    // An error handler may have replaced the response; make sure the id survives.
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}

/** The current request's id (set by the middleware above). */
export function getRequestId(c: HasRequestId): string {
  // Typed as set, but a handler mounted without the middleware (in a unit test) finds none.
  return (c.get('requestId') as string | undefined) ?? 'unknown';
}
