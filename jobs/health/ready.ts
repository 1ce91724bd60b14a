import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps, Probe } from '../deps.ts';
import { errorMessage } from '../retry.ts';

const ProbeResultSchema = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });

export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    failed: z.array(z.string()).openapi({ description: 'Names of the checks that failed' }),
    checks: z.record(z.string(), ProbeResultSchema),
  })
  .openapi('Readiness');

export const readinessRoute = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['health'],
  summary: 'Readiness: the telemetry database and ClickHouse answer, and the CDC consumer (if enabled) has joined its group',
  responses: {
    200: { description: 'Every check passed', content: { 'application/json': { schema: ReadinessSchema } } },
    503: { description: 'At least one check failed (named in `failed`)', content: { 'application/json': { schema: ReadinessSchema } } },
  },
});

async function runProbe(probe: Probe, timeoutMs: number): Promise<z.infer<typeof ProbeResultSchema>> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([probe(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: errorMessage(error).slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

export function registerReadiness(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  app.openapi(readinessRoute, async (c) => {
    const names = Object.keys(deps.readinessProbes);
    const results = await Promise.all(names.map((name) => runProbe(deps.readinessProbes[name]!, deps.config.HEALTH_TIMEOUT_MS)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    const failed = names.filter((_, i) => !results[i]!.ok);
    if (failed.length > 0) {
      c.header('Retry-After', '5');
      return c.json({ status: 'unavailable' as const, failed, checks }, 503);
    }
    return c.json({ status: 'ready' as const, failed, checks }, 200);
  });
}
