import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { bearerSecurity } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { crmErrors } from './schemas.ts';
import { requireCrm, runCrm } from './store.ts';

export const ModelSchema = z
  .object({
    id: z.string().uuid(),
    manufacturer: z.string(),
    name: z.string().openapi({ example: 'BionicHand X2' }),
    kind: z.enum(['hand', 'arm', 'leg', 'foot']),
  })
  .openapi('CrmProsthesisModel');

export const listModelsRoute = createRoute({
  method: 'get',
  path: '/api/crm/models',
  tags: ['crm'],
  summary: 'The prosthesis model catalogue (to register prostheses and create orders)',
  security: bearerSecurity,
  responses: {
    200: { description: 'Every model, by manufacturer and name', content: { 'application/json': { schema: z.object({ items: z.array(ModelSchema) }) } } },
    ...crmErrors,
  },
});

export function registerListModels(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.openapi(listModelsRoute, async (c) => {
    const { sql } = requireCrm(deps.crm);
    const items = await runCrm(() => sql<z.infer<typeof ModelSchema>[]>`
      select id::text, manufacturer, name, kind from crm.prosthesis_models order by manufacturer, name`);
    return c.json({ items: [...items] }, 200);
  });
}
