import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorResponseDoc } from '../../common/http/openapi.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { UsernameParamSchema } from './admin-list-sessions.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { revokeQuietly } from './logout.ts';
import { originErrors, sessionErrors } from './schemas.ts';
import { clearSessionCookie, currentSession } from './session/middleware.ts';

export const EndSessionsSchema = z
  .object({
    username: z.string(),
    ended: z.number().int().openapi({ description: 'Sessions deleted' }),
    revoked: z.number().int().openapi({ description: 'Of those, refresh tokens revoked at Keycloak' }),
  })
  .openapi('EndSessions');
export type EndSessionsResponse = z.infer<typeof EndSessionsSchema>;

export const adminEndSessionsRoute = createRoute({
  method: 'delete',
  path: '/auth/admin/users/{username}/sessions',
  tags: ['auth admin'],
  summary: "Ends all of a person's BFF sessions and revokes their refresh tokens (administrator role)",
  request: { params: UsernameParamSchema },
  responses: {
    200: { description: 'Sessions ended', content: { 'application/json': { schema: EndSessionsSchema } } },
    400: errorResponseDoc('Bad username'),
    403: { ...originErrors[403], description: 'Not an administrator, or a missing/foreign Origin' },
    ...sessionErrors,
  },
});

export function registerAdminEndSessions(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.openapi(adminEndSessionsRoute, async (c) => {
    const { username } = c.req.valid('param');
    const sessions = await deps.sessions.listForUser(username);
    let revoked = 0;
    for (const { record } of sessions) {
      await deps.sessions.end(record);
      if (await revokeQuietly(deps, record)) revoked++;
    }
    // An admin ending their own sessions is signed out here too.
    if (sessions.some((s) => s.record.id === currentSession(c).record.id)) clearSessionCookie(c, deps);
    // Counts and session ids only: logs name nobody directly (issue 11).
    addToWideEvent(c, { adminAction: 'end_sessions', ended: sessions.length });
    deps.logger.info('admin.sessions_ended', { adminSessionId: currentSession(c).record.id, endedSessionIds: sessions.map((s) => s.record.id), ended: sessions.length });
    c.header('Cache-Control', 'no-store');
    return c.json({ username, ended: sessions.length, revoked }, 200);
  });
}
