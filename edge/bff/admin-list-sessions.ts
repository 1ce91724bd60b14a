import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { USERNAME_PATTERN } from '../../common/auth/principal.ts';
import { errorResponseDoc } from '../../common/http/openapi.ts';
import { requireAdmin } from './admin-guard.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { sessionErrors } from './schemas.ts';
import { currentSession, requireSession } from './session/middleware.ts';
import { sessionExpiresAtMs, type SessionRecord } from './session/sessions.ts';

export const UsernameParamSchema = z.object({
  username: z
    .string()
    .regex(USERNAME_PATTERN, 'not a username')
    .openapi({ param: { name: 'username', in: 'path' }, example: 'ivan.petrov' }),
});

export const SessionSummarySchema = z
  .object({
    id: z.string().openapi({ description: 'Session id (not a credential: the cookie also needs its secret)' }),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
    absoluteExpiresAt: z.string(),
    userAgent: z.string().nullable(),
    current: z.boolean().openapi({ description: 'The session making this request' }),
  })
  .openapi('SessionSummary');

export const SessionListSchema = z.object({ username: z.string(), sessions: z.array(SessionSummarySchema) }).openapi('SessionList');
export type SessionListResponse = z.infer<typeof SessionListSchema>;

export const adminListSessionsRoute = createRoute({
  method: 'get',
  path: '/auth/admin/users/{username}/sessions',
  tags: ['auth admin'],
  summary: "Lists a person's live BFF sessions (administrator role)",
  request: { params: UsernameParamSchema },
  responses: {
    200: { description: 'Live sessions, newest first', content: { 'application/json': { schema: SessionListSchema } } },
    400: errorResponseDoc('Bad username'),
    403: errorResponseDoc('Not an administrator'),
    ...sessionErrors,
  },
});

export function summarizeSession(record: SessionRecord, idleTimeoutSeconds: number, currentId: string) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: record.id,
    createdAt: iso(record.createdAtMs),
    lastSeenAt: iso(record.lastSeenAtMs),
    expiresAt: iso(sessionExpiresAtMs(record, idleTimeoutSeconds)),
    absoluteExpiresAt: iso(record.absoluteExpiresAtMs),
    userAgent: record.userAgent,
    current: record.id === currentId,
  };
}

export function registerAdminListSessions(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.openapi(adminListSessionsRoute, async (c) => {
    const { username } = c.req.valid('param');
    const sessions = await deps.sessions.listForUser(username);
    const currentId = currentSession(c).record.id;
    c.header('Cache-Control', 'no-store');
    return c.json({ username, sessions: sessions.map((s) => summarizeSession(s.record, deps.config.SESSION_IDLE_TIMEOUT_SECONDS, currentId)) }, 200);
  });
}

/** Both admin operations sit behind a session and the admin role. */
export function guardAdminRoutes(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.use('/auth/admin/*', requireSession(deps), requireAdmin(deps));
}
