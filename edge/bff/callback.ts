import { decodeJwt } from 'jose';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { storeKeys } from '../store/store.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { GrantRejected, IdpUnavailable, TokenInvalid } from './keycloak.ts';
import type { LoginAttempt } from './login.ts';
import { appUrl } from './return-to.ts';
import { clearCookie, cookieNames, readCookie, setSessionCookie } from './session/cookies.ts';
import { isSessionSecretValid } from './session/session-token.ts';

/** Error codes the app receives as `?error=` after a failed login. */
export type LoginError =
  | 'access_denied'
  | 'login_failed'
  | 'invalid_request'
  | 'invalid_state'
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'exchange_failed'
  | 'invalid_id_token'
  | 'idp_unavailable';

const param = (description: string) => z.string().max(4096).optional().openapi({ description });

export const callbackRoute = createRoute({
  method: 'get',
  path: '/auth/callback',
  tags: ['auth'],
  summary: 'Keycloak redirect target: checks state, exchanges the code, verifies the ID token, starts a session',
  request: {
    query: z.object({
      code: param('Authorization code'),
      state: param('The state /auth/login sent'),
      iss: param('Issuer (RFC 9207); must be the realm'),
      error: param('OAuth error from Keycloak'),
      error_description: param('Its description (logged, never echoed)'),
      session_state: param('Keycloak session id (ignored)'),
    }),
  },
  responses: {
    302: { description: 'To the app: the return path on success (session cookie set), or `/?error=<code>`' },
  },
});

export function registerCallback(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  const names = cookieNames(deps.config.BFF_PUBLIC_URL);
  const maxAgeSeconds = deps.config.SESSION_ABSOLUTE_LIFETIME_SECONDS;

  const fail = (c: Context, error: LoginError, detail?: string) => {
    addToWideEvent(c, { login: 'failed', loginError: error, detail });
    deps.logger.info('login.failed', { requestId: c.get('requestId'), error, detail });
    c.header('Cache-Control', 'no-store');
    return c.redirect(appUrl(deps.config.FRONTEND_URL, `/?error=${encodeURIComponent(error)}`), 302);
  };

  app.openapi(callbackRoute, async (c) => {
    const query = c.req.valid('query');
    const binding = readCookie(c, names.login);
    // The binding cookie is single-use whatever happens next.
    if (binding !== undefined) clearCookie(c, names.login);
    if (!query.state) return fail(c, 'invalid_request', 'no state');

    // Taken atomically: a replayed or concurrent callback with the same state finds nothing.
    const stored = await deps.store.take(storeKeys.loginAttempt(query.state));
    if (stored === null) return fail(c, 'invalid_state', 'unknown, expired or already used state');
    const attempt = JSON.parse(stored) as LoginAttempt;
    if (!binding || !isSessionSecretValid(binding, attempt.bindingHash)) return fail(c, 'state_mismatch', 'state was issued to another browser');

    if (query.error) return fail(c, query.error === 'access_denied' ? 'access_denied' : 'login_failed', `keycloak: ${query.error.slice(0, 64)}`);
    if (query.iss !== undefined && query.iss !== deps.config.KEYCLOAK_ISSUER) return fail(c, 'issuer_mismatch');
    if (!query.code) return fail(c, 'invalid_request', 'no code');

    let grant;
    let user;
    try {
      grant = await deps.idp.exchangeCode(query.code, attempt.codeVerifier);
      user = await deps.idp.identify(grant.tokens, attempt.nonce);
    } catch (error) {
      if (error instanceof GrantRejected) return fail(c, 'exchange_failed', error.oauthCode);
      if (error instanceof TokenInvalid) return fail(c, 'invalid_id_token', error.reason);
      if (error instanceof IdpUnavailable) return fail(c, 'idp_unavailable', error.message);
      throw error;
    }

    // Session fixation: whatever session the browser arrived with is ended, never upgraded.
    const previous = await deps.sessions.validate(readCookie(c, names.session));
    if (previous.ok) await deps.sessions.end(previous.session.record);

    const { cookieValue, session } = await deps.sessions.create(user, grant, c.req.header('user-agent') ?? null, ssoSessionIdOf(grant.tokens.idToken));
    setSessionCookie(c, names.session, cookieValue, maxAgeSeconds);
    // The session id, not the username: logs name nobody directly (issue 11).
    addToWideEvent(c, { login: 'succeeded', sessionId: session.record.id });
    c.header('Cache-Control', 'no-store');
    return c.redirect(appUrl(deps.config.FRONTEND_URL, attempt.returnTo), 302);
  });
}

/** The ID token's `sid` (Keycloak's SSO session), already verified by identify(); back-channel logout ends by it. */
function ssoSessionIdOf(idToken: string | null): string | null {
  if (!idToken) return null;
  try {
    const sid = decodeJwt(idToken).sid;
    return typeof sid === 'string' && sid !== '' ? sid : null;
  } catch {
    return null;
  }
}
