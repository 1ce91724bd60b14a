import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { generateKeyPair, SignJWT } from 'jose';
import { Attribute, Change, Client } from 'ldapts';
import { BACKCHANNEL_LOGOUT_PATH } from '../../edge/bff/backchannel-logout.ts';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../edge/bff/keycloak.ts';
import { parseSessionToken } from '../../edge/bff/session/session-token.ts';
import type { SessionRecord } from '../../edge/bff/session/sessions.ts';
import { storeKeys } from '../../edge/store/store.ts';
import { groupDn } from '../../stack/config/ldap/seed.ts';
import { connectAdmin } from '../../stack/services/keycloak.ts';
import { adminDn } from '../../stack/services/ldap.ts';
import { addDirectoryPerson, type DirectoryPerson } from '../helpers/directory-person.ts';
import { loginThroughBff, type TestBrowser } from '../helpers/keycloak-login.ts';
import { APP_ORIGIN, BFF_ORIGIN, createTestBff, LOGIN_TIMEOUT_MS, stackEnv, startCore, type RunningProcess, type TestBff } from './support.ts';

// Issue 9, BFF side: each finding with a test against real Redis, Keycloak + LDAP and core.
let core: RunningProcess;
let bff: TestBff;
const people: DirectoryPerson[] = [];

beforeAll(async () => {
  core = await startCore();
  bff = await createTestBff({ env: { CORE_URL: core.url } });
});

afterAll(async () => {
  await bff?.close();
  await core?.stop();
  for (const person of people) await person.remove().catch(() => undefined);
});

async function temporaryPerson(roles: Array<'administrator' | 'prothetic_user' | 'user'>): Promise<DirectoryPerson> {
  const person = await addDirectoryPerson(stackEnv, { uidPrefix: 'bffhard', roles });
  people.push(person);
  return person;
}

async function signIn(person: DirectoryPerson): Promise<TestBrowser> {
  const browser = bff.browser();
  await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: stackEnv, browser });
  return browser;
}

const sessionIdOf = (browser: TestBrowser) => parseSessionToken(browser.cookie(BFF_ORIGIN, 'bff_session'))!.id;

/** What the record says once the access token's lifetime has passed (as after 5 minutes). */
async function ageAccessToken(browser: TestBrowser): Promise<void> {
  const key = storeKeys.session(sessionIdOf(browser));
  const record = JSON.parse((await bff.deps.store.get(key))!) as SessionRecord;
  await bff.deps.store.set(key, JSON.stringify({ ...record, accessExpiresAtMs: Date.now() - 1000 }), 600);
}

async function leaveLdapGroup(person: DirectoryPerson, role: string): Promise<void> {
  const ldap = new Client({ url: stackEnv.LDAP_RU_URL!, timeout: 5_000 });
  await ldap.bind(adminDn(stackEnv.LDAP_RU_BASE_DN!), stackEnv.LDAP_RU_ADMIN_PASSWORD!);
  try {
    await ldap.modify(groupDn('ru', role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [person.dn] }) }));
  } finally {
    await ldap.unbind();
  }
  // Keycloak caches federated users (with their LDAP-mapped roles); production waits for the cache, the test evicts it.
  const admin = await connectAdmin(stackEnv);
  const { status } = await admin.send('POST', '/clear-user-cache');
  expect(status).toBe(204);
}

async function keycloakUserId(username: string): Promise<string> {
  const admin = await connectAdmin(stackEnv);
  const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(username)}&exact=true`);
  return user!.id;
}

describe('admin actions rest on a fresh token, not on roles cached at login', () => {
  test('a demoted administrator loses the admin routes once the access token they signed in with has lapsed', async () => {
    const person = await temporaryPerson(['administrator']);
    const browser = await signIn(person);
    const url = `${BFF_ORIGIN}/auth/admin/users/${person.uid}/sessions`;
    expect((await browser.fetch(url)).status).toBe(200);

    await leaveLdapGroup(person, 'administrator');
    // Within one access-token lifetime the token still carries the role…
    expect((await browser.fetch(url)).status).toBe(200);
    // …after it, the admin route refreshes first and reads the role from the new token.
    await ageAccessToken(browser);
    const refused = await browser.fetch(url);
    expect(refused.status).toBe(403);
    const record = JSON.parse((await bff.deps.store.get(storeKeys.session(sessionIdOf(browser))))!) as SessionRecord;
    expect(record.user.roles).not.toContain('administrator');
    expect(record.accessExpiresAtMs).toBeGreaterThan(Date.now());
    expect((await browser.fetch(url, { method: 'DELETE', headers: { origin: APP_ORIGIN } })).status).toBe(403);
  }, LOGIN_TIMEOUT_MS);

  // Keycloak keeps no copy of directory people (issue 11): it cannot disable one, the directory removes them.
  test('an administrator removed from the directory loses their session at the next admin action after the lifetime (401 session_expired)', async () => {
    const person = await temporaryPerson(['administrator']);
    const browser = await signIn(person);
    const url = `${BFF_ORIGIN}/auth/admin/users/${person.uid}/sessions`;
    const id = sessionIdOf(browser);
    expect((await browser.fetch(url)).status).toBe(200);
    const ldap = new Client({ url: stackEnv.LDAP_RU_URL!, timeout: 5_000 });
    await ldap.bind(adminDn(stackEnv.LDAP_RU_BASE_DN!), stackEnv.LDAP_RU_ADMIN_PASSWORD!);
    try {
      await ldap.del(person.dn);
    } finally {
      await ldap.unbind();
    }
    expect((await (await connectAdmin(stackEnv)).send('POST', '/clear-user-cache')).status).toBe(204);
    await ageAccessToken(browser);
    const refused = await browser.fetch(url);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('session_expired');
    expect(await bff.deps.store.get(storeKeys.session(id))).toBeNull();
  }, LOGIN_TIMEOUT_MS);
});

describe('logout ends the Keycloak SSO session', () => {
  const realmUrl = `${stackEnv.KEYCLOAK_URL}/realms/${stackEnv.KEYCLOAK_REALM}`;

  /** The same browser signs in to the realm's account console too: a second client in its SSO session. */
  async function alsoSignInToAccountConsole(browser: TestBrowser): Promise<void> {
    const authorize = new URL(`${realmUrl}/protocol/openid-connect/auth`);
    authorize.search = new URLSearchParams({
      client_id: 'account-console',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${realmUrl}/account/`,
      state: crypto.randomUUID(),
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const response = await browser.fetch(authorize);
    // Straight back with a code: Keycloak's SSO cookie did the login, a client session exists now.
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  }

  /** What /auth/login leads to in this browser: Keycloak's password form, or straight back to the BFF. */
  async function nextLoginPage(browser: TestBrowser): Promise<'password' | 'signed-in-by-sso'> {
    const start = await browser.fetch(`${BFF_ORIGIN}/auth/login`);
    expect(start.status).toBe(302);
    let response = await browser.fetch(start.headers.get('location')!);
    for (let hops = 0; response.status >= 300 && response.status < 400 && hops < 5; hops++) {
      const location = new URL(response.headers.get('location')!, realmUrl);
      if (location.pathname === '/auth/callback') return 'signed-in-by-sso';
      response = await browser.fetch(location);
    }
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('id="kc-form-login"');
    return 'password';
  }

  test('after POST /auth/logout the next /auth/login asks for the password, even with another client in the SSO session', async () => {
    const person = await temporaryPerson(['prothetic_user']);
    const browser = await signIn(person);
    await alsoSignInToAccountConsole(browser);
    const out = await browser.fetch(`${BFF_ORIGIN}/auth/logout`, { method: 'POST', headers: { origin: APP_ORIGIN } });
    expect(out.status).toBe(200);
    expect(((await out.json()) as { ended: boolean }).ended).toBe(true);
    expect(await nextLoginPage(browser)).toBe('password');
  }, LOGIN_TIMEOUT_MS);
});

describe('/api/* is rate-limited per session', () => {
  test('past API_RATE_LIMIT calls in the window: 429 with Retry-After; another session is not affected; the count lives in the store', async () => {
    const limited = await createTestBff({ env: { CORE_URL: core.url, API_RATE_LIMIT: '3', API_RATE_WINDOW_SECONDS: '60' } });
    try {
      const person = await temporaryPerson(['prothetic_user']);
      const first = limited.browser();
      await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: stackEnv, browser: first });
      // A second session of the same person, on the same Keycloak SSO session.
      const second = limited.browser();
      second.copyCookiesFrom(first, stackEnv.KEYCLOAK_URL!);
      await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: stackEnv, browser: second });

      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const response = await first.fetch(`${BFF_ORIGIN}/api/reports/summary`);
        statuses.push(response.status);
        expect(response.headers.get('ratelimit-limit')).toBe('3');
        expect(response.headers.get('ratelimit-remaining')).toBe(String(2 - i));
      }
      expect(statuses.every((s) => s !== 429)).toBe(true);
      const blocked = await first.fetch(`${BFF_ORIGIN}/api/reports/summary`);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(((await blocked.json()) as { error: { code: string; details: { scope: string } } }).error).toMatchObject({ code: 'too_many_requests', details: { scope: 'api' } });
      expect((await second.fetch(`${BFF_ORIGIN}/api/reports/summary`)).status).not.toBe(429);

      // Store-backed: a second BFF process with the same limit sees the same count.
      const other = await createTestBff({ env: { CORE_URL: core.url, API_RATE_LIMIT: '3', API_RATE_WINDOW_SECONDS: '60' } });
      try {
        const response = await other.app.request(`${BFF_ORIGIN}/api/reports/summary`, { headers: { cookie: `bff_session=${first.cookie(BFF_ORIGIN, 'bff_session')}` } });
        expect(response.status).toBe(429);
      } finally {
        await other.close();
      }
    } finally {
      await limited.close();
    }
  }, LOGIN_TIMEOUT_MS * 2);

  test('a request without a valid session gets its 401, not a 429, and costs no count', async () => {
    const response = await bff.app.request(`${BFF_ORIGIN}/api/reports/summary`, { headers: { cookie: 'bff_session=aaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbb' } });
    expect(response.status).toBe(401);
  });
});

describe('/api/* request bodies are bounded while they are read', () => {
  test('a chunked body without Content-Length is cut off with 413 after at most the limit, never read whole', async () => {
    const person = await temporaryPerson(['prothetic_user']);
    const browser = await signIn(person);
    const cookie = `bff_session=${browser.cookie(BFF_ORIGIN, 'bff_session')}`;
    const limit = bff.deps.config.API_MAX_BODY_BYTES;
    const chunk = new Uint8Array(64 * 1024).fill(120);
    let pulled = 0;
    // "1 GiB": the source would produce that much, if asked.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= 1024 * 1024 * 1024) return controller.close();
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const started = performance.now();
    const response = await bff.app.request(`${BFF_ORIGIN}/api/telemetry`, { method: 'POST', body, headers: { cookie, origin: APP_ORIGIN, 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(pulled).toBeLessThanOrEqual(limit + 4 * chunk.byteLength);
    expect(performance.now() - started).toBeLessThan(1000);
    // The rest of the upload is not worth reading: the server drops the connection after the answer.
    expect(response.headers.get('connection')).toBe('close');
  }, LOGIN_TIMEOUT_MS);
});

describe('OIDC back-channel logout', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  test('Keycloak ending the SSO session ends every BFF session created from it; its logout token cannot be replayed', async () => {
    // Keycloak must reach this BFF over HTTP: the in-process app, also listening on a free port.
    const received: string[] = [];
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        if (new URL(request.url).pathname === BACKCHANNEL_LOGOUT_PATH) received.push(await request.clone().text());
        return bff.app.fetch(request);
      },
    });
    const admin = await connectAdmin(stackEnv);
    const [client] = await admin.get<Array<{ id: string; attributes: Record<string, string> }>>('/clients?clientId=reports-bff');
    const configured = client!.attributes['backchannel.logout.url'];
    const point = (url: string | undefined) => admin.send('PUT', `/clients/${client!.id}`, { ...client, attributes: { ...client!.attributes, 'backchannel.logout.url': url ?? '' } });
    expect((await point(`http://127.0.0.1:${server.port}${BACKCHANNEL_LOGOUT_PATH}`)).status).toBe(204);
    try {
      const person = await temporaryPerson(['prothetic_user']);
      const first = await signIn(person);
      // A second BFF session from the same Keycloak SSO session (another tab after the SSO cookie).
      const second = bff.browser();
      second.copyCookiesFrom(first, stackEnv.KEYCLOAK_URL!);
      await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: stackEnv, browser: second });
      const record = JSON.parse((await bff.deps.store.get(storeKeys.session(sessionIdOf(first))))!) as SessionRecord;
      expect(record.ssoSessionId).toBeTruthy();
      expect((await first.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);
      expect((await second.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);

      // An administrator signs the person out in Keycloak: Keycloak calls the BFF's back channel.
      const { status } = await admin.send('POST', `/users/${await keycloakUserId(person.uid)}/logout`);
      expect(status).toBe(204);
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(received.length).toBeGreaterThan(0);
      expect((await first.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);
      expect((await second.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(401);

      // The same token again: its jti is remembered.
      const replay = await bff.app.request(`${BFF_ORIGIN}${BACKCHANNEL_LOGOUT_PATH}`, { method: 'POST', headers: form, body: received[0]! });
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error_description: string }).error_description).toBe('logout token already used');
    } finally {
      await point(configured);
      await server.stop(true);
    }
  }, LOGIN_TIMEOUT_MS * 2);

  test('tokens that are not Keycloak’s, or not logout tokens, are refused with 400 and end nothing', async () => {
    const person = await temporaryPerson(['prothetic_user']);
    const browser = await signIn(person);
    const record = JSON.parse((await bff.deps.store.get(storeKeys.session(sessionIdOf(browser))))!) as SessionRecord;
    const { privateKey } = await generateKeyPair('RS256');
    // Claims the realm's own key id: only the signature can tell it apart.
    const jwks = (await (await fetch(`${bff.deps.config.KEYCLOAK_ISSUER}/protocol/openid-connect/certs`)).json()) as { keys: Array<{ kid: string; alg?: string; use?: string }> };
    const kid = jwks.keys.find((key) => key.alg === 'RS256' && key.use !== 'enc')!.kid;
    const forged = await new SignJWT({ sid: record.ssoSessionId, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' })
      .setIssuer(bff.deps.config.KEYCLOAK_ISSUER)
      .setAudience(bff.deps.config.BFF_CLIENT_ID)
      .setSubject(record.user.subject)
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const post = (body: string, headers: Record<string, string> = form) => bff.app.request(`${BFF_ORIGIN}${BACKCHANNEL_LOGOUT_PATH}`, { method: 'POST', headers, body });
    for (const body of [`logout_token=${forged}`, 'logout_token=', 'logout_token=not.a.jwt', '']) expect((await post(body)).status).toBe(400);
    expect((await post(`logout_token=${forged}`, { 'content-type': 'application/json' })).status).toBe(400);
    // A real ID token is signed by the realm but is not a logout token (no event, a nonce, another purpose).
    const tokens = await bff.deps.sessions.readTokens(record);
    const idToken = await post(`logout_token=${tokens.idToken}`);
    expect(idToken.status).toBe(400);
    expect((await browser.fetch(`${BFF_ORIGIN}/auth/me`)).status).toBe(200);
  }, LOGIN_TIMEOUT_MS);

  test('the per-address /auth/* rate limit does not apply: one Keycloak may end many sessions at once', async () => {
    const limited = await createTestBff({ env: { CORE_URL: core.url, AUTH_RATE_LIMIT: '1', TRUST_FORWARDED_FOR: 'true' } });
    // An address of its own, so no other test's count shares the bucket.
    const from = { 'x-forwarded-for': `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` };
    try {
      const post = () => limited.app.request(`${BFF_ORIGIN}${BACKCHANNEL_LOGOUT_PATH}`, { method: 'POST', headers: { ...form, ...from }, body: 'logout_token=not.a.jwt' });
      for (let i = 0; i < 3; i++) expect((await post()).status).toBe(400);
      // Other /auth routes still are limited.
      expect((await limited.app.request(`${BFF_ORIGIN}/auth/me`, { headers: from })).status).toBe(401);
      expect((await limited.app.request(`${BFF_ORIGIN}/auth/me`, { headers: from })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
