import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from '../log.ts';
import { createErrorHandler, notFoundHandler, validationHook } from './errors.ts';
import { requestId } from './request-id.ts';
import type { ServiceEnv } from './service-env.ts';
import { logRequests } from './wide-event.ts';

export interface ServiceAppOptions {
  logger: Logger;
  /** Accept x-request-id from the caller (services behind the edge); public listeners mint their own. */
  trustIncomingRequestId: boolean;
  slowRequestMs?: number;
  /** Turns a service's own error types into ApiErrors before the shared handler renders them. */
  mapError?: (error: Error) => Error;
}

/**
 * The shared frame of every service: request id, one wide log event per request, the error
 * envelope for thrown errors, schema failures and unknown routes. Routes are added by the caller.
 */
export function createServiceApp<E extends ServiceEnv = ServiceEnv>(options: ServiceAppOptions): OpenAPIHono<E> {
  const app = new OpenAPIHono<E>({ defaultHook: (result, c) => validationHook(result, c) });
  app.use('*', requestId({ trustIncoming: options.trustIncomingRequestId }));
  app.use('*', logRequests(options.logger, { slowMs: options.slowRequestMs }));
  const handleError = createErrorHandler(options.logger);
  const mapError = options.mapError;
  app.onError(mapError ? (error, c) => handleError(mapError(error), c) : handleError);
  app.notFound(notFoundHandler);
  return app;
}
