import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';

export const LiveHealthSchema = z
  .object({
    status: z.literal('ok'),
    service: z.string().openapi({ example: 'core' }),
    uptimeSeconds: z.number().openapi({ example: 42 }),
  })
  .openapi('LiveHealth');

export const liveHealthRoute = createRoute({
  method: 'get',
  path: '/health/live',
  tags: ['health'],
  summary: 'Liveness: the process answers; checks no dependency',
  responses: {
    200: { description: 'The process is alive', content: { 'application/json': { schema: LiveHealthSchema } } },
  },
});

/** Liveness is the same for every service; readiness is each service's own. */
export function registerLiveHealth<E extends Env>(app: OpenAPIHono<E>, service: string, now: () => number = Date.now): void {
  const startedAt = now();
  app.openapi(liveHealthRoute, (c) =>
    c.json({ status: 'ok' as const, service, uptimeSeconds: Math.round((now() - startedAt) / 1000) }, 200),
  );
}
