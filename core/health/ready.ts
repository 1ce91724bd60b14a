import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { DEPENDENCY_RETRY_AFTER_SECONDS } from '../errors.ts';
import { runProbe } from './probes.ts';

const ProbeResultSchema = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });

export const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    failed: z.array(z.string()).openapi({ description: 'Names of the dependencies that did not answer' }),
    checks: z.record(z.string(), ProbeResultSchema),
  })
  .openapi('Readiness');
export type Readiness = z.infer<typeof ReadinessSchema>;

export const readinessRoute = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['health'],
  summary: 'Readiness: ClickHouse, S3 and the realm JWKS answer',
  responses: {
    200: { description: 'Every dependency answered', content: { 'application/json': { schema: ReadinessSchema } } },
    503: { description: 'At least one dependency did not answer (named in `failed`)', content: { 'application/json': { schema: ReadinessSchema } } },
  },
});

export function registerReadiness(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(readinessRoute, async (c) => {
    const names = Object.keys(deps.readinessProbes);
    const results = await Promise.all(names.map((name) => runProbe(deps.readinessProbes[name]!, deps.config.HEALTH_TIMEOUT_MS, name)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    const failed = names.filter((_, i) => !results[i]!.ok);
    if (failed.length > 0) {
      c.header('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS));
      return c.json({ status: 'unavailable' as const, failed, checks }, 503);
    }
    return c.json({ status: 'ready' as const, failed, checks }, 200);
  });
}
