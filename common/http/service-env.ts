import type { LogFields } from '../log.ts';

/**
 * The Hono context variables every service's frame (service-app.ts) sets: `requestId` by the
 * request-id middleware, `wideEvent` by the wide-event logger. A service's own Env adds its
 * variables with `ServiceEnvWith`, so handlers read them with `c.get` and no casts.
 */
export type ServiceVariables = {
  requestId: string;
  /** Undefined only where the wide-event logger is not mounted (a handler tested on its own). */
  wideEvent: LogFields | undefined;
};

export type ServiceEnv = { Variables: ServiceVariables };

/** A service's Env: the shared variables plus its own (principal, session, …). */
export type ServiceEnvWith<V extends object> = { Variables: ServiceVariables & V };

/** What helpers need of a context to read the request id: any service's context fits. */
export type HasRequestId = { get(key: 'requestId'): string };
/** What helpers need of a context to add to the wide event: any service's context fits. */
export type HasWideEvent = { get(key: 'wideEvent'): LogFields | undefined };
