import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { parseSessionToken } from '../../edge/bff/session/session-token.ts';
import type { SessionRecord } from '../../edge/bff/session/sessions.ts';
import { completeKeycloakLogin, loginThroughBff, type TestBrowser } from '../helpers/keycloak-login.ts';
import { APP_ORIGIN, BFF_ORIGIN, createTestBff, findTokenLeaks, LOGIN_TIMEOUT_MS, OWNER, signedInBrowser, stackEnv, startCore, type RunningProcess, type TestBff } from './support.ts';

// Real Keycloak (TOTP login through its forms), Redis and core; the BFF runs in-process.
let core: RunningProcess;
let bff: TestBff;
let other: TestBff;

beforeAll(async () => {
  core = await startCore();
  bff = await createTestBff({ env: { CORE_URL: core.url } });
  // A second BFF "process" on the same Redis: refreshes must coordinate across both.
  other = await createTestBff({ env: { CORE_URL: core.url } });
});

afterAll(async () => {
  await bff?.close();
  await other?.close();
  await core?.stop();
});

async function everything(response: Response): Promise<string> {
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${headers}\n\n${await response.clone().text()}`;
}

async function sessionRecord(browser: TestBrowser): Promise<{ id: string; record: SessionRecord; raw: string }> {
  const token = parseSessionToken(browser.cookie(BFF_ORIGIN, 'bff_session'));
  if (!token) throw new Error('no session cookie');
  const raw = await bff.deps.store.get(storeKeys.session(token.id));
  if (!raw) throw new Error('no session record');
  return { id: token.id, record: JSON.parse(raw) as SessionRecord, raw };
}

/** Makes the stored access token look nearly expired, so the next API call refreshes it. */
async function expireAccessToken(browser: TestBrowser): Promise<SessionRecord> {
  const { id, record } = await sessionRecord(browser);
  const expired = { ...record, accessExpiresAtMs: Date.now() - 1000 };
  await bff.deps.store.set(storeKeys.session(id), JSON.stringify(expired), 600);
  return expired;
}

describe('BFF: the whole session life cycle', () => {
  let browser: TestBrowser;

  test('login redirects to Keycloak with PKCE S256, state and nonce, binding the attempt to the browser', async () => {
    browser = bff.browser();
    const start = await browser.fetch(`${BFF_ORIGIN}/auth/login?returnTo=${encodeURIComponent('/reports?day=2026-11-24')}`);
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${stackEnv.KEYCLOAK_URL}/realms/${stackEnv.KEYCLOAK_REALM}/protocol/openid-connect/auth`);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('redirect_uri')).toBe(`${stackEnv.BFF_PUBLIC_URL}/auth/callback`);
    expect(location.searchParams.get('scope')).toContain('openid');
    const loginCookie = start.headers.getSetCookie().find((c) => c.startsWith('bff_login='));
    expect(loginCookie).toMatch(/HttpOnly/);
    expect(loginCookie).toMatch(/Secure/);
    expect(loginCookie).toMatch(/SameSite=Lax/);
    expect(loginCookie).toMatch(/Max-Age=600/);
    // The verifier stays server-side: the attempt is in Redis under the state, with a short TTL.
    const attempt = JSON.parse((await bff.deps.store.get(storeKeys.loginAttempt(location.searchParams.get('state')!)))!) as Record<string, string>;
    expect(attempt.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await everything(start)).not.toContain(attempt.codeVerifier);

    const callback = await completeKeycloakLogin(location, { env: stackEnv, username: OWNER, browser });
    const done = await browser.fetch(`${BFF_ORIGIN}/auth/callback${callback.search}`);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe(`${APP_ORIGIN}/reports?day=2026-11-24`);
    const sessionCookie = done.headers.getSetCookie().find((c) => c.startsWith('bff_session='));
    expect(sessionCookie).toMatch(/^bff_session=[a-z2-7]{24}\.[a-z2-7]{24};/);
    for (const attribute of [/HttpOnly/, /Secure/, /SameSite=Lax/, /Path=\//]) expect(sessionCookie).toMatch(attribute);
    expect(done.headers.getSetCookie().some((c) => /^bff_login=;/.test(c))).toBe(true);
    expect(findTokenLeaks(await everything(done))).toEqual([]);
  }, LOGIN_TIMEOUT_MS);

  test('tokens are stored encrypted with a key id; only a hash of the cookie secret is kept', async () => {
    const { raw, record } = await sessionRecord(browser);
    expect(findTokenLeaks(raw)).toEqual([]);
    expect(record.sealedTokens).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    const secret = browser.cookie(BFF_ORIGIN, 'bff_session')!.split('.')[1]!;
    expect(raw).not.toContain(secret);
    const tokens = await bff.deps.sessions.readTokens(record);
    expect(findTokenLeaks(tokens.accessToken)).toHaveLength(1);
  });

  test('/auth/me names the person and the session, and carries no token', async () => {
    const me = await browser.fetch(`${BFF_ORIGIN}/auth/me`);
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    const body = (await me.clone().json()) as { username: string; email: string; roles: string[]; session: { expiresAt: string; absoluteExpiresAt: string } };
    expect(body.username).toBe(OWNER);
    expect(body.email).toBe(`${OWNER}@eu.bionicpro.example`);
    expect(body.roles).toContain('prothetic_user');
    expect(Date.parse(body.session.expiresAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(body.session.absoluteExpiresAt)).toBeGreaterThanOrEqual(Date.parse(body.session.expiresAt));
    expect(findTokenLeaks(await everything(me))).toEqual([]);
  });

  test('/api/* reaches core as the signed-in person, query passed through, no cookie or token back', async () => {
    const api = await browser.fetch(`${BFF_ORIGIN}/api/reports?limit=5&offset=0`, { headers: { 'x-request-id': 'browser-chosen-id-123' } });
    expect(api.status).toBe(200);
    const body = (await api.clone().json()) as { user_id: string; limit: number };
    // Core answers for the signed-in person, named by their owner ref (never the username).
    expect(body.user_id).toBe(await (await createOwnerRefs(stackEnv.OWNER_REF_KEY!)).of(OWNER));
    expect(body.limit).toBe(5);
    expect(api.headers.get('x-request-id')).not.toBe('browser-chosen-id-123');
    expect(api.headers.getSetCookie()).toEqual([]);
    expect(findTokenLeaks(await everything(api))).toEqual([]);
    // Core's answer for a bad parameter passes through as core's envelope.
    const bad = await browser.fetch(`${BFF_ORIGIN}/api/reports/not-a-date`);
    expect(bad.status).toBe(400);
  });

  test('an access token close to expiry is refreshed once before the call', async () => {
    const before = await expireAccessToken(browser);
    const api = await browser.fetch(`${BFF_ORIGIN}/api/reports`);
    expect(api.status).toBe(200);
    const { record } = await sessionRecord(browser);
    expect(record.generation).toBe(before.generation + 1);
    expect(record.accessExpiresAtMs).toBeGreaterThan(Date.now() + 60_000);
  });

  test('concurrent calls through two BFF instances refresh exactly once', async () => {
    const before = await expireAccessToken(browser);
    const cookie = browser.cookieHeader(BFF_ORIGIN);
    const calls = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? bff : other).app.request(`${BFF_ORIGIN}/api/reports`, { headers: { cookie } }));
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    expect(statuses).toEqual(Array(12).fill(200));
    const { record } = await sessionRecord(browser);
    expect(record.generation).toBe(before.generation + 1);
  });

  test('logout needs our Origin, revokes the refresh token, deletes the session and clears the cookie', async () => {
    const { id, record } = await sessionRecord(browser);
    const tokens = await bff.deps.sessions.readTokens(record);
    const noOrigin = await browser.fetch(`${BFF_ORIGIN}/auth/logout`, { method: 'POST' });
    expect(noOrigin.status).toBe(403);
    expect((await browser.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);

    const out = await browser.fetch(`${BFF_ORIGIN}/auth/logout`, { method: 'POST', headers: { origin: APP_ORIGIN } });
    expect(out.status).toBe(200);
    const body = (await out.clone().json()) as { ended: boolean; endSessionUrl: string };
    expect(body.ended).toBe(true);
    const endSession = new URL(body.endSessionUrl);
    expect(endSession.pathname).toBe(`/realms/${stackEnv.KEYCLOAK_REALM}/protocol/openid-connect/logout`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stackEnv.BFF_PUBLIC_URL}/auth/logged-out`);
    expect(findTokenLeaks(await everything(out))).toEqual([]);
    expect(out.headers.getSetCookie().some((c) => /^bff_session=;/.test(c))).toBe(true);
    expect(await bff.deps.store.get(storeKeys.session(id))).toBeNull();
    expect((await browser.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);

    // The refresh token is dead at Keycloak.
    const refresh = await fetch(`${stackEnv.KEYCLOAK_URL}/realms/${stackEnv.KEYCLOAK_REALM}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken!, client_id: 'reports-bff', client_secret: stackEnv.BFF_CLIENT_SECRET! }),
    });
    expect(refresh.status).toBe(400);
  });

  test('a refresh Keycloak refuses ends the session: 401 session_expired, cookie cleared', async () => {
    const fresh = bff.browser();
    fresh.copyCookiesFrom(browser, stackEnv.KEYCLOAK_URL!);
    await loginThroughBff({ bffUrl: BFF_ORIGIN, username: OWNER, env: stackEnv, browser: fresh });
    const { id, record } = await sessionRecord(fresh);
    const tokens = await bff.deps.sessions.readTokens(record);
    await bff.deps.idp.revoke(tokens.refreshToken!);
    await expireAccessToken(fresh);
    const api = await fresh.fetch(`${BFF_ORIGIN}/api/reports`);
    expect(api.status).toBe(401);
    const body = (await api.json()) as { error: { code: string; details: { reason: string } } };
    expect(body.error.code).toBe('session_expired');
    expect(body.error.details.reason).toBe('session_expired');
    expect(api.headers.getSetCookie().some((c) => /^bff_session=;/.test(c))).toBe(true);
    expect(await bff.deps.store.get(storeKeys.session(id))).toBeNull();
  }, LOGIN_TIMEOUT_MS);

  test('logged-out landing sends the browser to the app', async () => {
    const response = await bff.app.request(`${BFF_ORIGIN}/auth/logged-out`);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${APP_ORIGIN}/`);
  });
});

describe('BFF: what the /api proxy sends to core', () => {
  test('method, path, query and body pass through; cookies and hop-by-hop headers do not; bearer and request id are added', async () => {
    const sent: Array<{ url: string; method: string; headers: Headers; body: string }> = [];
    const spying = await createTestBff({
      env: { CORE_URL: core.url },
      runtime: {
        // Records what leaves the BFF, then lets the real core answer.
        fetchUpstream: async (url, init) => {
          sent.push({ url, method: init.method ?? 'GET', headers: new Headers(init.headers), body: init.body ? new TextDecoder().decode(init.body as ArrayBuffer) : '' });
          return fetch(url, init);
        },
      },
    });
    try {
      const browser = await signedInBrowser(spying, OWNER);
      const payload = JSON.stringify({ users: [OWNER], note: 'ünïcødé' });
      const response = await browser.fetch(`${BFF_ORIGIN}/api/reports/invalidate?dry=1&x=%2F`, {
        method: 'POST',
        headers: { origin: APP_ORIGIN, 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': 'drop-me', 'keep-alive': 'timeout=5', 'x-custom': 'kept', authorization: 'Bearer forged' },
        body: payload,
      });
      // Core refuses this (a person may not invalidate; the body is not its schema): it arrived, authenticated.
      expect([403, 422]).toContain(response.status);
      const [call] = sent.slice(-1);
      expect(call!.url).toBe(`${core.url}/api/reports/invalidate?dry=1&x=%2F`);
      expect(call!.method).toBe('POST');
      expect(call!.body).toBe(payload);
      expect(call!.headers.get('authorization')).toMatch(/^Bearer eyJ/);
      expect(call!.headers.get('authorization')).not.toBe('Bearer forged');
      expect(call!.headers.get('x-request-id')).toBe(response.headers.get('x-request-id'));
      expect(call!.headers.get('x-custom')).toBe('kept');
      expect(call!.headers.get('content-type')).toBe('application/json');
      for (const dropped of ['cookie', 'connection', 'keep-alive', 'x-hop', 'origin', 'host']) expect(call!.headers.get(dropped)).toBeNull();
    } finally {
      await spying.close();
    }
  }, LOGIN_TIMEOUT_MS);

  test('a body above API_MAX_BODY_BYTES is refused with 413 before reaching core', async () => {
    const small = await createTestBff({ env: { CORE_URL: core.url, API_MAX_BODY_BYTES: '1024' } });
    try {
      const browser = await signedInBrowser(small, OWNER);
      const response = await browser.fetch(`${BFF_ORIGIN}/api/reports/invalidate`, { method: 'POST', headers: { origin: APP_ORIGIN }, body: 'x'.repeat(2048) });
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  }, LOGIN_TIMEOUT_MS);
});
