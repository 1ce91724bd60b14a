import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { appUrl } from './return-to.ts';
import { originErrors, sessionErrors } from './schemas.ts';
import { clearSessionCookie } from './session/middleware.ts';
import { cookieNames, readCookie } from './session/cookies.ts';

export const LogoutSchema = z
  .object({
    ended: z.boolean().openapi({ description: 'Whether a session was signed out (false: there was none)' }),
    endSessionUrl: z.string().openapi({ description: 'Open it to end the Keycloak SSO session as well; it returns to the app' }),
  })
  .openapi('Logout');

export const logoutRoute = createRoute({
  method: 'post',
  path: '/auth/logout',
  tags: ['auth'],
  summary: 'Signs out: ends the Keycloak SSO session (id_token_hint, back channel), revokes the refresh token, deletes the session, clears the cookie',
  responses: {
    200: { description: 'Signed out (idempotent)', content: { 'application/json': { schema: LogoutSchema } } },
    ...originErrors,
    429: sessionErrors[429],
    503: sessionErrors[503],
  },
});

export const loggedOutRoute = createRoute({
  method: 'get',
  path: '/auth/logged-out',
  tags: ['auth'],
  summary: "Keycloak's post-logout redirect target; sends the browser to the app",
  responses: { 302: { description: 'To the app root' } },
});

export function registerLogout(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  const names = cookieNames(deps.config.BFF_PUBLIC_URL);
  const endSessionUrl = deps.idp.endSessionUrl(`${deps.config.BFF_PUBLIC_URL}/auth/logged-out`);

  app.openapi(logoutRoute, async (c) => {
    const result = await deps.sessions.validate(readCookie(c, names.session));
    clearSessionCookie(c, deps);
    c.header('Cache-Control', 'no-store');
    if (!result.ok) return c.json({ ended: false, endSessionUrl }, 200);
    const { record } = result.session;
    await deps.sessions.end(record);
    await endSsoQuietly(deps, record);
    await revokeQuietly(deps, record);
    addToWideEvent(c, { sessionId: record.id, logout: true });
    return c.json({ ended: true, endSessionUrl }, 200);
  });

  app.openapi(loggedOutRoute, (c) => c.redirect(appUrl(deps.config.FRONTEND_URL, '/'), 302));
}

/**
 * Ends the Keycloak SSO session behind this BFF session (id_token_hint on the back channel), so
 * the next /auth/login asks for the password again even when the person also signed in to other
 * clients of the realm. A failure is logged; the BFF session is gone either way and the refresh
 * token is still revoked after it.
 */
export async function endSsoQuietly(deps: BffDeps, record: Parameters<BffDeps['sessions']['readTokens']>[0]): Promise<boolean> {
  try {
    const tokens = await deps.sessions.readTokens(record);
    if (!tokens.idToken) return false;
    await deps.idp.endSsoSession(tokens.idToken);
    return true;
  } catch (error) {
    deps.logger.warn('session.sso_end_failed', { sessionId: record.id, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

/** Revokes the session's refresh token; a failure is logged, the session is gone either way. */
export async function revokeQuietly(deps: BffDeps, record: Parameters<BffDeps['sessions']['readTokens']>[0]): Promise<boolean> {
  try {
    const tokens = await deps.sessions.readTokens(record);
    if (tokens.refreshToken) await deps.idp.revoke(tokens.refreshToken);
    return true;
  } catch (error) {
    deps.logger.warn('session.revoke_failed', { sessionId: record.id, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}
