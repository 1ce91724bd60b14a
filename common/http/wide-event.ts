import type { MiddlewareHandler } from 'hono';
import type { LogFields, Logger } from '../log.ts';
import type { HasWideEvent, ServiceEnv } from './service-env.ts';

/**
 * One wide event per request: method, path, status, duration and request id, plus whatever the
 * handlers added with `addToWideEvent`. Errors (>= 500) log at error level, slow requests at warn.
 */
export function logRequests(logger: Logger, options: { slowMs?: number; now?: () => number } = {}): MiddlewareHandler<ServiceEnv> {
  const slowMs = options.slowMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  return async (c, next) => {
    const started = now();
    const fields: LogFields = {};
    c.set('wideEvent', fields);
    try {
      await next();
    } finally {
      const durationMs = Math.round((now() - started) * 100) / 100;
      const status = c.res.status;
      const event = {
        requestId: c.get('requestId') as string | undefined,
        method: c.req.method,
        path: loggedPath(new URL(c.req.url).pathname),
        status,
        durationMs,
        ...fields,
      };
      if (status >= 500) logger.error('http.request', event);
      else if (durationMs >= slowMs) logger.warn('http.request', { ...event, slow: true });
      else logger.info('http.request', event);
    }
  };
}

/**
 * The path as logged: administrators look a person up by username in the URL
 * (`/api/admin/users/{user}/…`, `/auth/admin/users/{user}/sessions`), and logs name nobody
 * directly (issue 11), so that segment is logged as `{user}` (core's audit line names the person
 * by owner ref).
 */
export function loggedPath(pathname: string): string {
  return pathname.replace(/\/admin\/users\/[^/]+/, '/admin/users/{user}');
}

/** Adds fields (user, cache outcome, …) to the current request's wide event. */
export function addToWideEvent(c: HasWideEvent, fields: LogFields): void {
  const event = c.get('wideEvent');
  if (event) Object.assign(event, fields);
}
