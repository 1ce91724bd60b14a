import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { readRequestTextWithin } from '../../common/http/body-limit.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { storeKeys } from '../store/store.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { TokenInvalid } from './keycloak.ts';

export const BACKCHANNEL_LOGOUT_PATH = '/auth/backchannel-logout';
const MAX_BODY_BYTES = 16 * 1024;

export const backchannelLogoutRoute = createRoute({
  method: 'post',
  path: BACKCHANNEL_LOGOUT_PATH,
  tags: ['auth'],
  summary: 'OIDC back-channel logout: Keycloak ends its SSO session, the BFF ends every session created from it',
  description: 'Called by Keycloak, not by browsers (no cookie, no Origin). Form body `logout_token`: a JWT signed by the realm.',
  responses: {
    200: { description: 'The sessions named by the token are ended (possibly none)' },
    400: { description: '`{ "error": "invalid_request", "error_description": … }`: no token, a token that fails verification, or one already used' },
    413: { description: 'Body over 16 KiB' },
  },
});

const badRequest = (description: string) => Response.json({ error: 'invalid_request', error_description: description }, { status: 400, headers: { 'cache-control': 'no-store' } });

/**
 * OpenID Connect Back-Channel Logout 1.0 (§2.5–2.8): the token is verified (signature, iss, aud,
 * iat/exp, the logout event, sid or sub, no nonce), its jti is claimed in the store until the token
 * would expire anyway (a replay finds it taken → 400), then every BFF session indexed under its
 * `sid` — or, for a token naming only `sub`, every session of that subject — is ended.
 */
export function registerBackchannelLogout(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.openapi(backchannelLogoutRoute, async (c) => {
    const contentType = c.req.header('content-type') ?? '';
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) return badRequest('expected an application/x-www-form-urlencoded body');
    const form = new URLSearchParams(await readRequestTextWithin(c.req.raw, MAX_BODY_BYTES));
    const token = form.get('logout_token');
    if (!token) return badRequest('no logout_token');
    let claims;
    try {
      claims = await deps.idp.verifyLogoutToken(token);
    } catch (error) {
      if (error instanceof TokenInvalid) {
        deps.logger.warn('backchannel_logout.rejected', { reason: error.reason });
        return badRequest(error.reason);
      }
      throw error;
    }
    const rememberSeconds = Math.max(1, Math.ceil((claims.expiresAtMs - deps.now()) / 1000) + deps.config.JWT_CLOCK_TOLERANCE_SECONDS);
    if (!(await deps.store.setIfAbsent(storeKeys.logoutTokenId(claims.jti), '1', rememberSeconds))) return badRequest('logout token already used');

    const ended = claims.sid
      ? await deps.sessions.endByIndex(storeKeys.ssoSessions(claims.sid), (record) => record.ssoSessionId === claims.sid && (!claims.sub || record.user.subject === claims.sub))
      : await deps.sessions.endByIndex(storeKeys.subjectSessions(claims.sub!), (record) => record.user.subject === claims.sub);
    addToWideEvent(c, { backchannelLogout: true, ended: ended.length });
    deps.logger.info('backchannel_logout.sessions_ended', { sid: claims.sid, ended: ended.length, sessionIds: ended.map((r) => r.id) });
    return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
  });
}
