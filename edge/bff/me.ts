import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BffDeps, BffEnv } from './context.ts';
import { sessionErrors } from './schemas.ts';
import { currentSession, requireSession } from './session/middleware.ts';
import { sessionExpiresAtMs } from './session/sessions.ts';

export const MeSchema = z
  .object({
    username: z.string().openapi({ example: 'ivan.petrov' }),
    name: z.string().nullable().openapi({ example: 'Иван Петров' }),
    email: z.string().nullable().openapi({ example: 'ivan.petrov@ru.bionicpro.example' }),
    roles: z.array(z.string()).openapi({ example: ['prothetic_user'] }),
    session: z.object({
      createdAt: z.string().openapi({ description: 'ISO time the session started' }),
      expiresAt: z.string().openapi({ description: 'When it ends if idle (extended by activity, capped by absoluteExpiresAt)' }),
      absoluteExpiresAt: z.string(),
    }),
  })
  .openapi('Me');
export type MeResponse = z.infer<typeof MeSchema>;

export const meRoute = createRoute({
  method: 'get',
  path: '/auth/me',
  tags: ['auth'],
  summary: 'Who is signed in (never any token)',
  responses: {
    200: { description: 'The signed-in person', content: { 'application/json': { schema: MeSchema } } },
    ...sessionErrors,
  },
});

export function registerMe(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.use(meRoute.path, requireSession(deps));
  app.openapi(meRoute, (c) => {
    const { record } = currentSession(c);
    c.header('Cache-Control', 'no-store');
    const iso = (ms: number) => new Date(ms).toISOString();
    return c.json(
      {
        username: record.user.username,
        name: record.user.name,
        email: record.user.email,
        roles: record.user.roles,
        session: {
          createdAt: iso(record.createdAtMs),
          expiresAt: iso(sessionExpiresAtMs(record, deps.config.SESSION_IDLE_TIMEOUT_SECONDS)),
          absoluteExpiresAt: iso(record.absoluteExpiresAtMs),
        },
      },
      200,
    );
  });
}
