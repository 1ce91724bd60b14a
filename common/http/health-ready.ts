import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { Logger } from '../log.ts';
import { withTimeout } from '../with-timeout.ts';
import { reuseRecent } from './reuse-recent.ts';

const monotonicMs = () => performance.now();

/** A readiness check of one dependency: resolves when it answers a real request. */
export type Probe = () => Promise<void>;

const ProbeResultSchema = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    failed: z.array(z.string()).openapi({ description: 'Names of the checks that failed' }),
    checks: z.record(z.string(), ProbeResultSchema),
  })
  .openapi('Readiness');
export type Readiness = z.infer<typeof ReadinessSchema>;

/** Runs one probe within `timeoutMs`; a failure is a result (with a bounded message), never a throw. */
export async function runProbe(probe: Probe, timeoutMs: number, name: string, now: () => number = monotonicMs): Promise<ProbeResult> {
  const started = now();
  try {
    await withTimeout(probe(), timeoutMs, name);
    return { ok: true, ms: Math.round(now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(now() - started), error: (error instanceof Error ? error.message : String(error)).slice(0, 300) };
  }
}

export interface ReadinessOptions {
  /** What "ready" means for this service (the route's summary). */
  summary: string;
  probes: Record<string, Probe>;
  timeoutMs: number;
  retryAfterSeconds: number;
  /**
   * On a public listener (the edge) the failures' messages name internal hosts and ports: they go
   * to this log instead of the response, which then says only which checks failed.
   */
  privateErrors?: Logger;
  /**
   * A public listener answers from the last round for this long, so a flood of readiness requests
   * cannot turn into a flood of requests to the dependencies.
   */
  reuseForMs?: number;
  /** Milliseconds on a monotonic clock (probe timings, the reuse window); injected by tests. */
  now?: () => number;
}

/**
 * GET /health/ready: every probe at once, each within the timeout; 503 with Retry-After naming the
 * failed ones. Liveness is in health-live.ts; what each service probes is its own.
 */
export function registerReadiness<E extends Env>(app: OpenAPIHono<E>, options: ReadinessOptions): void {
  const route = createRoute({
    method: 'get',
    path: '/health/ready',
    tags: ['health'],
    summary: options.summary,
    responses: {
      200: { description: 'Every check passed', content: { 'application/json': { schema: ReadinessSchema } } },
      503: { description: 'At least one check failed (named in `failed`)', content: { 'application/json': { schema: ReadinessSchema } } },
    },
  });
  const names = Object.keys(options.probes);
  const now = options.now ?? monotonicMs;
  /** One round of every probe; its failures are logged once, however many requests it answers. */
  const round = async (): Promise<ProbeResult[]> => {
    const results = await Promise.all(names.map((name) => runProbe(options.probes[name]!, options.timeoutMs, name, now)));
    const errors = Object.fromEntries(names.flatMap((name, i) => (results[i]!.ok ? [] : [[name, results[i]!.error]])));
    if (Object.keys(errors).length > 0) options.privateErrors?.warn('health.not_ready', { failed: Object.keys(errors), errors });
    return results;
  };
  const probeAll = reuseRecent(round, options.reuseForMs ?? 0, now);
  app.openapi(route, async (c) => {
    const results = await probeAll();
    // Without a private log the messages are part of the answer; with one, only ok and timing are.
    const shown = options.privateErrors ? results.map(({ error: _error, ...rest }) => rest) : results;
    const checks = Object.fromEntries(names.map((name, i) => [name, shown[i]!]));
    const failed = names.filter((_, i) => !results[i]!.ok);
    if (failed.length > 0) {
      c.header('Retry-After', String(options.retryAfterSeconds));
      return c.json({ status: 'unavailable' as const, failed, checks }, 503);
    }
    return c.json({ status: 'ready' as const, failed, checks }, 200);
  });
}
