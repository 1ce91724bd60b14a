import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { LoginAttempt } from '../../edge/bff/login.ts';
import { parseSessionToken } from '../../edge/bff/session/session-token.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { completeKeycloakLogin, type TestBrowser } from '../helpers/keycloak-login.ts';
import { ADMIN, APP_ORIGIN, BFF_ORIGIN, createTestBff, findTokenLeaks, keycloakSessionOf, LOGIN_TIMEOUT_MS, OWNER, PLAIN_USER, signedInBrowser, stackEnv, type TestBff } from './support.ts';

// Attacks on the BFF's login and session handling, against real Keycloak and Redis.
let bff: TestBff;

beforeAll(async () => {
  bff = await createTestBff();
});

afterAll(async () => {
  await bff?.close();
});

/** Starts a login in `browser` and drives Keycloak to the redirect back (not yet delivered to the BFF). */
async function startAndAuthorize(browser: TestBrowser, username = OWNER): Promise<{ callbackQuery: string; state: string }> {
  browser.copyCookiesFrom(await keycloakSessionOf(username, bff), stackEnv.KEYCLOAK_URL!);
  const start = await browser.fetch(`${BFF_ORIGIN}/auth/login`);
  const location = new URL(start.headers.get('location')!);
  const callback = await completeKeycloakLogin(location, { env: stackEnv, username, browser });
  return { callbackQuery: callback.search, state: location.searchParams.get('state')! };
}

function loginError(response: Response): string | null {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  expect(location.origin).toBe(APP_ORIGIN);
  return location.searchParams.get('error');
}

const sessionId = (browser: TestBrowser) => parseSessionToken(browser.cookie(BFF_ORIGIN, 'bff_session'))?.id;

describe('login and callback', () => {
  test('session fixation: a session id planted in the browser is never adopted', async () => {
    // The attacker signs in and plants their cookie in the victim's browser.
    const attacker = await signedInBrowser(bff, OWNER);
    const planted = attacker.cookie(BFF_ORIGIN, 'bff_session')!;
    const victim = bff.browser();
    victim.setCookie(BFF_ORIGIN, 'bff_session', planted);
    const { callbackQuery } = await startAndAuthorize(victim, OWNER);
    const done = await victim.fetch(`${BFF_ORIGIN}/auth/callback${callbackQuery}`);
    expect(loginError(done)).toBeNull();
    const minted = victim.cookie(BFF_ORIGIN, 'bff_session')!;
    expect(minted).not.toBe(planted);
    expect(parseSessionToken(minted)!.id).not.toBe(parseSessionToken(planted)!.id);
    // The planted session was ended, not upgraded: the attacker's cookie no longer works.
    expect((await attacker.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);
    expect((await victim.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);

    // A forged cookie of the right shape is just as useless before and after login.
    const forged = bff.browser();
    forged.setCookie(BFF_ORIGIN, 'bff_session', `${'a'.repeat(24)}.${'b'.repeat(24)}`);
    expect((await forged.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);
  }, LOGIN_TIMEOUT_MS);

  test('a replayed callback (same state, same code) is refused', async () => {
    const browser = bff.browser();
    const { callbackQuery } = await startAndAuthorize(browser);
    const first = await browser.fetch(`${BFF_ORIGIN}/auth/callback${callbackQuery}`);
    expect(loginError(first)).toBeNull();
    const firstSession = sessionId(browser);
    // Replay with the login cookie restored, as an attacker holding both would.
    browser.setCookie(BFF_ORIGIN, 'bff_login', 'anything');
    const replay = await browser.fetch(`${BFF_ORIGIN}/auth/callback${callbackQuery}`);
    expect(loginError(replay)).toBe('invalid_state');
    expect(sessionId(browser)).toBe(firstSession);
  }, LOGIN_TIMEOUT_MS);

  test('a state started in another browser is refused (login CSRF), and consumed', async () => {
    const attacker = bff.browser();
    const { callbackQuery } = await startAndAuthorize(attacker);
    const victim = bff.browser();
    const response = await victim.fetch(`${BFF_ORIGIN}/auth/callback${callbackQuery}`);
    expect(loginError(response)).toBe('state_mismatch');
    expect(sessionId(victim)).toBeUndefined();
    // Consumed on the first try: the rightful browser cannot use it afterwards either.
    expect(loginError(await attacker.fetch(`${BFF_ORIGIN}/auth/callback${callbackQuery}`))).toBe('invalid_state');
  }, LOGIN_TIMEOUT_MS);

  test('an ID token whose nonce does not match the login attempt is refused', async () => {
    const browser = bff.browser();
    browser.copyCookiesFrom(await keycloakSessionOf(OWNER, bff), stackEnv.KEYCLOAK_URL!);
    const start = await browser.fetch(`${BFF_ORIGIN}/auth/login`);
    const location = new URL(start.headers.get('location')!);
    const key = storeKeys.loginAttempt(location.searchParams.get('state')!);
    const attempt = JSON.parse((await bff.deps.store.get(key))!) as LoginAttempt;
    await bff.deps.store.set(key, JSON.stringify({ ...attempt, nonce: 'not-the-nonce-keycloak-saw' }), 600);
    const callback = await completeKeycloakLogin(location, { env: stackEnv, username: OWNER, browser });
    const response = await browser.fetch(`${BFF_ORIGIN}/auth/callback${callback.search}`);
    expect(loginError(response)).toBe('invalid_id_token');
    expect(sessionId(browser)).toBeUndefined();
  }, LOGIN_TIMEOUT_MS);

  test('callback without state, with a made-up state, or with a Keycloak error', async () => {
    const browser = bff.browser();
    expect(loginError(await browser.fetch(`${BFF_ORIGIN}/auth/callback?code=x`))).toBe('invalid_request');
    expect(loginError(await browser.fetch(`${BFF_ORIGIN}/auth/callback?code=x&state=made-up`))).toBe('invalid_state');
    await browser.fetch(`${BFF_ORIGIN}/auth/login`).then(async (start) => {
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const denied = await browser.fetch(`${BFF_ORIGIN}/auth/callback?error=access_denied&state=${state}`);
      expect(loginError(denied)).toBe('access_denied');
    });
  });

  test('returnTo accepts same-origin paths only', async () => {
    for (const [returnTo, expected] of [
      ['/reports/2026-11-24?tab=hours#h10', '/reports/2026-11-24?tab=hours#h10'],
      ['//evil.example/x', '/'],
      ['https://evil.example/', '/'],
      ['/\\evil.example', '/'],
      ['javascript:alert(1)', '/'],
      // Dot segments that collapse into a network path once the URL is parsed.
      ['/.//evil.com', '/'],
      ['/..//evil.com', '/'],
      ['/%2e//x', '/'],
    ] as const) {
      const start = await bff.app.request(`${BFF_ORIGIN}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const attempt = JSON.parse((await bff.deps.store.take(storeKeys.loginAttempt(state)))!) as LoginAttempt;
      expect(attempt.returnTo).toBe(expected);
    }
  });

  test('after a login with a dot-segment returnTo the browser lands on the app, not on another host', async () => {
    const browser = bff.browser();
    const start = await browser.fetch(`${BFF_ORIGIN}/auth/login?returnTo=${encodeURIComponent('/.//evil.com/steal')}`);
    const callback = await completeKeycloakLogin(new URL(start.headers.get('location')!), { env: stackEnv, username: OWNER, browser });
    const done = await browser.fetch(`${BFF_ORIGIN}/auth/callback${callback.search}`);
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get('location')!).origin).toBe(APP_ORIGIN);
    expect(done.headers.get('location')).toBe(`${APP_ORIGIN}/`);
  }, LOGIN_TIMEOUT_MS);
});

describe('sessions', () => {
  test('a tampered cookie is refused and cleared', async () => {
    const browser = await signedInBrowser(bff, OWNER);
    const good = browser.cookie(BFF_ORIGIN, 'bff_session')!;
    const [id, secret] = good.split('.') as [string, string];
    const flip = (s: string) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1);
    for (const tampered of [`${id}.${flip(secret)}`, `${flip(id)}.${secret}`, `${id}.${secret}x`, `${id}`, '']) {
      const response = await bff.app.request(`${BFF_ORIGIN}/auth/me`, { headers: { cookie: `bff_session=${tampered}` } });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { details: { reason: string } } };
      expect(['invalid_session', 'no_session']).toContain(body.error.details.reason);
    }
    const wrongSecret = await bff.app.request(`${BFF_ORIGIN}/auth/me`, { headers: { cookie: `bff_session=${id}.${flip(secret)}` } });
    expect(wrongSecret.headers.getSetCookie().some((c) => /^bff_session=;/.test(c))).toBe(true);
    // The real one still works: a wrong guess does not end the owner's session.
    expect((await browser.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);
  }, LOGIN_TIMEOUT_MS);

  test('state-changing requests without our Origin are refused before anything happens', async () => {
    const browser = await signedInBrowser(bff, OWNER);
    for (const origin of [undefined, 'https://evil.example', 'null']) {
      const headers: Record<string, string> = origin ? { origin } : {};
      const logout = await browser.fetch(`${BFF_ORIGIN}/auth/logout`, { method: 'POST', headers });
      expect(logout.status).toBe(403);
      const body = (await logout.json()) as { error: { code: string; details: { reason: string } } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.details.reason).toBe(origin ? 'origin_not_allowed' : 'origin_missing');
      const api = await browser.fetch(`${BFF_ORIGIN}/api/reports/invalidate`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
      expect(api.status).toBe(403);
    }
    expect((await browser.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);
  }, LOGIN_TIMEOUT_MS);

  test('security headers on every response', async () => {
    for (const path of ['/auth/me', '/health/live', '/nope']) {
      const response = await bff.app.request(`${BFF_ORIGIN}${path}`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-request-id')).toBeTruthy();
      // Plain http://localhost: no HSTS (it would pin a host that has no TLS).
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  test('HSTS and __Host- cookies when the BFF is served over HTTPS', async () => {
    const secure = await createTestBff({ env: { BFF_PUBLIC_URL: 'https://app.bionicpro.example' } });
    try {
      const response = await secure.app.request('https://app.bionicpro.example/auth/login');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
      expect(response.headers.getSetCookie()[0]).toMatch(/^__Host-bff_login=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    } finally {
      await secure.close();
    }
  });

  test('/auth/* is rate limited per client address (counted in Redis)', async () => {
    const address = `203.0.113.${Math.floor(Math.random() * 250)}-${Date.now()}`;
    const limited = await createTestBff({ env: { AUTH_RATE_LIMIT: '3', AUTH_RATE_WINDOW_SECONDS: '60' }, runtime: { peerAddress: () => address } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.app.request(`${BFF_ORIGIN}/auth/me`)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const blocked = await limited.app.request(`${BFF_ORIGIN}/auth/login`);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another address is not affected.
      expect((await bff.app.request(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('admin: list and end a person’s sessions', () => {
  test('requires the administrator role', async () => {
    const owner = await signedInBrowser(bff, OWNER);
    const list = await owner.fetch(`${BFF_ORIGIN}/auth/admin/users/${OWNER}/sessions`);
    expect(list.status).toBe(403);
    const plain = await signedInBrowser(bff, PLAIN_USER);
    expect((await plain.fetch(`${BFF_ORIGIN}/auth/admin/users/${OWNER}/sessions`)).status).toBe(403);
    expect((await bff.app.request(`${BFF_ORIGIN}/auth/admin/users/${OWNER}/sessions`)).status).toBe(401);
  }, LOGIN_TIMEOUT_MS * 2);

  // The target is the plain user, whom other suites do not sign in as: ending all their sessions disturbs nobody.
  test('an administrator lists them and ends them all (refresh tokens revoked)', async () => {
    const target = await signedInBrowser(bff, PLAIN_USER);
    const targetId = parseSessionToken(target.cookie(BFF_ORIGIN, 'bff_session'))!.id;
    const admin = await signedInBrowser(bff, ADMIN);
    const list = await admin.fetch(`${BFF_ORIGIN}/auth/admin/users/${PLAIN_USER}/sessions`);
    expect(list.status).toBe(200);
    const body = (await list.clone().json()) as { sessions: Array<{ id: string; current: boolean }> };
    expect(body.sessions.map((s) => s.id)).toContain(targetId);
    expect(findTokenLeaks(await list.text())).toEqual([]);

    expect((await admin.fetch(`${BFF_ORIGIN}/auth/admin/users/${PLAIN_USER}/sessions`, { method: 'DELETE' })).status).toBe(403);
    const ended = await admin.fetch(`${BFF_ORIGIN}/auth/admin/users/${PLAIN_USER}/sessions`, { method: 'DELETE', headers: { origin: APP_ORIGIN } });
    expect(ended.status).toBe(200);
    const result = (await ended.json()) as { ended: number; revoked: number };
    expect(result.ended).toBeGreaterThanOrEqual(1);
    expect(result.revoked).toBe(result.ended);
    expect((await target.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);
    expect((await admin.fetch(`${BFF_ORIGIN}/auth/admin/users/${PLAIN_USER}/sessions`).then((r) => r.json())) as unknown).toMatchObject({ sessions: [] });
    expect((await admin.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);
    expect((await admin.fetch(`${BFF_ORIGIN}/auth/admin/users/${encodeURIComponent('../x')}/sessions`)).status).toBe(400);
  }, LOGIN_TIMEOUT_MS * 2);
});
