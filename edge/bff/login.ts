import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { generateCodeVerifier } from 'arctic';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { storeKeys } from '../store/store.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { safeReturnTo } from './return-to.ts';
import { cookieNames, setLoginCookie } from './session/cookies.ts';
import { hashSessionSecret, randomToken } from './session/session-token.ts';

/** What the BFF remembers about a login in flight, under its state, until the callback takes it. */
export interface LoginAttempt {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  /** Hash of the browser-binding cookie's value: the callback must come from the same browser. */
  bindingHash: string;
  createdAtMs: number;
}

export const loginRoute = createRoute({
  method: 'get',
  path: '/auth/login',
  tags: ['auth'],
  summary: 'Starts a Keycloak login (authorization code + PKCE S256, state, nonce)',
  request: {
    query: z.object({
      returnTo: z.string().max(512).optional().openapi({ description: 'Same-origin app path to land on after login', example: '/reports/2026-11-24' }),
    }),
  },
  responses: {
    302: { description: 'Redirect to the Keycloak login page; sets the short-lived login cookie' },
  },
});

export function registerLogin(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  const names = cookieNames(deps.config.BFF_PUBLIC_URL);
  const ttlSeconds = deps.config.LOGIN_ATTEMPT_TTL_SECONDS;
  app.openapi(loginRoute, async (c) => {
    const state = randomToken(deps.random);
    const nonce = randomToken(deps.random);
    const binding = randomToken(deps.random);
    const codeVerifier = generateCodeVerifier();
    const attempt: LoginAttempt = {
      codeVerifier,
      nonce,
      returnTo: safeReturnTo(c.req.valid('query').returnTo),
      bindingHash: hashSessionSecret(binding),
      createdAtMs: deps.now(),
    };
    await deps.store.set(storeKeys.loginAttempt(state), JSON.stringify(attempt), ttlSeconds);
    setLoginCookie(c, names.login, binding, ttlSeconds);
    addToWideEvent(c, { login: 'started' });
    c.header('Cache-Control', 'no-store');
    return c.redirect(deps.idp.authorizationUrl({ state, codeVerifier, nonce }).toString(), 302);
  });
}
