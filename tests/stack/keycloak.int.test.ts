import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { generateHOTP } from '@oslojs/otp';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { PEOPLE, REGIONS, type Region } from '../../demo/people.ts';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { Attribute, Change, Client } from 'ldapts';
import { adminDn, readerDn } from '../../stack/services/ldap.ts';
import { connectAdmin, findClient, findComponent, realmIssuer, reconcileRealm, type AdminClient } from '../../stack/services/keycloak.ts';
import { addDirectoryPerson } from '../helpers/directory-person.ts';
import { fetchUserTokens, forgetTotpSecret } from '../helpers/keycloak-login.ts';

// Runs against the stack's Keycloak and both directories (`node stack/cli.ts up keycloak`).
const env = loadStackEnv();
// Bun 1.3 ignores bunfig.toml's `[test] timeout`, so without this every test here gets Bun's 5 s
// default, which a loaded 2-core CI box can exceed. The services' own timeouts still bound each call.
setDefaultTimeout(60_000);
const issuer = realmIssuer(env);
const redirectUri = `${env.BFF_PUBLIC_URL}/auth/callback`;
const COMPONENT_OF: Record<Region, { name: string; url: string }> = {
  ru: { name: 'ldap-russia', url: env.LDAP_RU_URL! },
  eu: { name: 'ldap-europe', url: env.LDAP_EU_URL! },
};
let admin: AdminClient;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  admin = await connectAdmin(env);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.warn('cleanup failed:', error));
});

interface Execution {
  providerId?: string;
  displayName: string;
  requirement: string;
  level: number;
  authenticationFlow?: boolean;
}

async function executionsOf(flowAlias: string): Promise<Execution[]> {
  return admin.get<Execution[]>(`/authentication/flows/${encodeURIComponent(flowAlias)}/executions`);
}

async function clientCredentialsToken(clientId: string, secret: string): Promise<Response> {
  return fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
}

const jwks = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));

async function verifyAccessToken(token: string): Promise<JWTPayload & { realm_access?: { roles: string[] }; preferred_username?: string; azp?: string }> {
  const { payload } = await jwtVerify(token, jwks, { issuer, audience: 'reports-api' });
  return payload;
}

describe('discovery', () => {
  test('the realm publishes its issuer, keys and PKCE S256', async () => {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(issuer);
    expect(doc.jwks_uri).toBe(`${issuer}/protocol/openid-connect/certs`);
    expect(doc.code_challenge_methods_supported).toContain('S256');
    expect(doc.authorization_endpoint).toBe(`${issuer}/protocol/openid-connect/auth`);
    const keys = (await (await fetch(String(doc.jwks_uri))).json()) as { keys: Array<{ alg?: string; use?: string }> };
    expect(keys.keys.some((k) => k.alg === 'RS256' && k.use === 'sig')).toBe(true);
  });
});

describe('realm configuration (admin API)', () => {
  test('both LDAP federations are read-only, import nobody and point at their directory', async () => {
    for (const region of REGIONS) {
      const { name, url } = COMPONENT_OF[region];
      const component = await findComponent(admin, name);
      expect(component.config.editMode).toEqual(['READ_ONLY']);
      expect(component.config.connectionUrl).toEqual([url]);
      // Issue 11: Keycloak keeps no copy of a directory person (docs/identity.md, "What each store holds").
      expect(component.config.importEnabled).toEqual(['false']);
      expect(component.config.usernameLDAPAttribute).toEqual(['uid']);
      // entryUUID: the directory's own immutable id, so a person renamed or re-added under an old uid is not
      // taken for someone else.
      expect(component.config.uuidLDAPAttribute).toEqual(['entryUUID']);
      // The read-only account, never the directory's root DN.
      expect(component.config.bindDn).toEqual([readerDn(region === 'ru' ? env.LDAP_RU_BASE_DN! : env.LDAP_EU_BASE_DN!)]);
      expect(component.config.bindCredential).toEqual(['**********']);
      const mappers = await admin.get<Array<{ name: string; providerId: string; config: Record<string, string[]> }>>(`/components?parent=${component.id}`);
      const attribute = (model: string) => mappers.find((m) => m.providerId === 'user-attribute-ldap-mapper' && m.config['user.model.attribute']?.[0] === model)?.config['ldap.attribute'];
      expect(attribute('username')).toEqual(['uid']);
      expect(attribute('email')).toEqual(['mail']);
      expect(attribute('firstName')).toEqual(['givenName']);
      expect(attribute('lastName')).toEqual(['sn']);
      const roles = mappers.find((m) => m.providerId === 'role-ldap-mapper');
      expect(roles?.config.mode).toEqual(['READ_ONLY']);
      expect(roles?.config['use.realm.roles.mapping']).toEqual(['true']);
      expect(roles?.config['role.object.classes']).toEqual(['groupOfNames']);
    }
  });

  test('TOTP policy and CONFIGURE_TOTP as a default required action', async () => {
    const realm = await admin.get<Record<string, unknown>>('');
    expect(realm).toMatchObject({
      otpPolicyType: 'totp',
      otpPolicyAlgorithm: 'HmacSHA1',
      otpPolicyDigits: 6,
      otpPolicyPeriod: 30,
      accessTokenLifespan: 300,
      browserFlow: 'browser-totp',
      bruteForceProtected: true,
    });
    const action = await admin.get<{ enabled: boolean; defaultAction: boolean }>('/authentication/required-actions/CONFIGURE_TOTP');
    expect(action).toMatchObject({ enabled: true, defaultAction: true });
  });

  test('brute-force detection locks out for a while, never for good; refresh tokens rotate and are single-use', async () => {
    const realm = await admin.get<Record<string, unknown>>('');
    expect(realm).toMatchObject({
      bruteForceProtected: true,
      permanentLockout: false,
      maxTemporaryLockouts: 0,
      revokeRefreshToken: true,
      refreshTokenMaxReuse: 0,
    });
    // Someone who only knows a username can hold the account for at most 15 minutes at a time, and the
    // failure count is forgotten after 12 hours; it takes several failures to start waiting.
    expect(Number(realm.failureFactor)).toBeGreaterThanOrEqual(5);
    expect(Number(realm.maxFailureWaitSeconds)).toBeLessThanOrEqual(900);
    expect(Number(realm.waitIncrementSeconds)).toBeLessThanOrEqual(Number(realm.maxFailureWaitSeconds));
    expect(Number(realm.maxDeltaTimeSeconds)).toBeLessThanOrEqual(12 * 3600);
  });

  test('reports-bff allows exactly one post-logout redirect URI, no wildcard', async () => {
    const client = await findClient(admin, 'reports-bff');
    expect(client.attributes?.['post.logout.redirect.uris']).toBe(`${env.BFF_PUBLIC_URL}/auth/logged-out`);
  });

  test('the browser flow requires password and OTP, with no conditional step', async () => {
    const executions = await executionsOf('browser-totp');
    const byProvider = (id: string) => executions.filter((e) => e.providerId === id);
    expect(byProvider('auth-username-password-form').map((e) => e.requirement)).toEqual(['REQUIRED']);
    expect(byProvider('auth-otp-form').map((e) => e.requirement)).toEqual(['REQUIRED']);
    expect(executions.filter((e) => e.requirement === 'CONDITIONAL')).toEqual([]);
  });

  test('reports-bff: confidential, code flow only, PKCE S256, exact redirect URI, reports-api audience', async () => {
    const client = await findClient(admin, 'reports-bff');
    expect(client).toMatchObject({
      publicClient: false,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      redirectUris: [redirectUri],
    });
    expect(client.attributes?.['pkce.code.challenge.method']).toBe('S256');
    expect(client.redirectUris?.some((u) => u.includes('*'))).toBe(false);
    const { value } = await admin.get<{ value: string }>(`/clients/${client.id}/client-secret`);
    expect(value).toBe(env.BFF_CLIENT_SECRET!);
    const mappers = (client.protocolMappers ?? []) as Array<{ protocolMapper: string; config: Record<string, string> }>;
    expect(mappers.find((m) => m.protocolMapper === 'oidc-audience-mapper')?.config['included.client.audience']).toBe('reports-api');
  });

  test('the yandex IdP exists, is enabled only with credentials in env, and requires OTP after broker login', async () => {
    const idp = await admin.get<{ providerId: string; enabled: boolean; postBrokerLoginFlowAlias?: string; config: Record<string, string> }>('/identity-provider/instances/yandex');
    expect(idp.providerId).toBe('oauth2');
    expect(idp.enabled).toBe(Boolean(env.YANDEX_CLIENT_ID && env.YANDEX_CLIENT_SECRET));
    expect(idp.config.authorizationUrl).toBe('https://oauth.yandex.ru/authorize');
    expect(idp.postBrokerLoginFlowAlias).toBe('post-broker-totp');
    const executions = await executionsOf('post-broker-totp');
    expect(executions.map((e) => [e.providerId, e.requirement])).toEqual([['auth-otp-form', 'REQUIRED']]);
  });

  test('yandex is switched on by credentials in env, stays put on a re-run, and off again without them', async () => {
    const withYandex = { ...env, YANDEX_CLIENT_ID: `test-client-${randomUUID()}`, YANDEX_CLIENT_SECRET: `test-secret-${randomUUID()}` };
    const withoutYandex = { ...env, YANDEX_CLIENT_ID: '', YANDEX_CLIENT_SECRET: '' };
    cleanups.push(async () => void (await reconcileRealm(env)));
    try {
      expect(await reconcileRealm(withYandex)).toEqual(['yandex enabled']);
      const idp = await admin.get<{ enabled: boolean; config: Record<string, string> }>('/identity-provider/instances/yandex');
      expect(idp.enabled).toBe(true);
      expect(idp.config.clientId).toBe(withYandex.YANDEX_CLIENT_ID);
      expect(idp.config.clientSecret).not.toBe(withYandex.YANDEX_CLIENT_SECRET);
      expect(await reconcileRealm(withYandex)).toEqual([]);
      expect(await reconcileRealm({ ...withYandex, YANDEX_CLIENT_SECRET: 'rotated' })).toEqual(['yandex enabled']);
    } finally {
      expect(await reconcileRealm(withoutYandex)).toEqual(['yandex disabled (YANDEX_CLIENT_ID / YANDEX_CLIENT_SECRET not set)']);
    }
    expect((await admin.get<{ enabled: boolean }>('/identity-provider/instances/yandex')).enabled).toBe(false);
  });

  test('reconciling again with the same env changes nothing', async () => {
    expect(await reconcileRealm(env)).toEqual([]);
  });

  test('reconciling repairs a client secret that drifted from env', async () => {
    const client = await findClient(admin, 'reports-jobs');
    const { status } = await admin.send('POST', `/clients/${client.id}/client-secret`);
    expect(status).toBe(200);
    expect((await clientCredentialsToken('reports-jobs', env.JOBS_CLIENT_SECRET!)).status).toBe(401);
    expect(await reconcileRealm(env)).toEqual(['reports-jobs secret']);
    expect((await clientCredentialsToken('reports-jobs', env.JOBS_CLIENT_SECRET!)).status).toBe(200);
  });

  test('reconciling brings back region mappers and the crm_operator group filter an older realm lacks, then changes nothing', async () => {
    const MAPPER_TYPE = 'org.keycloak.storage.ldap.mappers.LDAPStorageMapper';
    type Mapper = { id: string; name: string; providerId?: string; protocolMapper?: string; config: Record<string, unknown> };
    const bff = await findClient(admin, 'reports-bff');
    const bffMappers = () => admin.get<Mapper[]>(`/clients/${bff.id}/protocol-mappers/models`);
    const ldapMappers = async (name: string) => admin.get<Mapper[]>(`/components?parent=${(await findComponent(admin, name)).id}&type=${MAPPER_TYPE}`);
    // Leave the shared realm whole even if an expectation below fails.
    cleanups.push(async () => void (await reconcileRealm(env)));

    // The realm as imported from the file before issue 11: no region anywhere, crm_operator not mapped.
    const bffRegion = (await bffMappers()).find((m) => m.name === 'region');
    expect(bffRegion).toBeDefined();
    expect((await admin.send('DELETE', `/clients/${bff.id}/protocol-mappers/models/${bffRegion!.id}`)).status).toBe(204);
    const euRegion = (await ldapMappers('ldap-europe')).find((m) => m.name === 'region');
    expect(euRegion).toBeDefined();
    expect((await admin.send('DELETE', `/components/${euRegion!.id}`)).status).toBe(204);
    const ruRoles = (await ldapMappers('ldap-russia')).find((m) => m.name === 'roles from groups')!;
    const oldFilter = ['(|(cn=prothetic_user)(cn=user)(cn=administrator))'];
    expect((await admin.send('PUT', `/components/${ruRoles.id}`, { ...ruRoles, config: { ...ruRoles.config, 'roles.ldap.filter': oldFilter } })).status).toBe(204);

    expect((await reconcileRealm(env)).sort()).toEqual(
      ['ldap-europe mapper region', 'ldap-russia mapper roles from groups roles.ldap.filter', 'reports-bff mapper region'].sort(),
    );
    const restored = (await bffMappers()).find((m) => m.name === 'region');
    expect(restored?.protocolMapper).toBe('oidc-usermodel-attribute-mapper');
    expect(restored?.config).toMatchObject({ 'user.attribute': 'region', 'claim.name': 'region', 'access.token.claim': 'true' });
    const eu = (await ldapMappers('ldap-europe')).find((m) => m.name === 'region');
    expect(eu?.providerId).toBe('hardcoded-attribute-mapper');
    expect(eu?.config).toMatchObject({ 'user.model.attribute': ['region'], 'attribute.value': ['eu'] });
    const ru = (await ldapMappers('ldap-russia')).find((m) => m.name === 'roles from groups');
    expect(ru?.config['roles.ldap.filter']).toEqual(['(|(cn=prothetic_user)(cn=user)(cn=administrator)(cn=crm_operator))']);
    // Nothing was duplicated, and a second run has nothing left to do.
    expect((await bffMappers()).filter((m) => m.name === 'region')).toHaveLength(1);
    expect((await ldapMappers('ldap-europe')).filter((m) => m.name === 'region')).toHaveLength(1);
    expect(await reconcileRealm(env)).toEqual([]);
  });
});

describe('realm reconcile: import off', () => {
  test('a realm that still imports is switched to no import, its local copies dropped, then nothing changes', async () => {
    const person = await addDirectoryPerson(env, { uidPrefix: 'kc-import', roles: ['user'], givenName: 'Imported', surname: 'Copy' });
    cleanups.push(() => person.remove());
    cleanups.push(async () => void (await reconcileRealm(env)));
    const component = await findComponent(admin, 'ldap-russia');
    const lookUp = async () => (await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(person.uid)}&exact=true`))[0];

    // The realm as imported from the file before issue 11: import on, so a lookup stores a copy.
    expect((await admin.send('PUT', `/components/${component.id}`, { ...component, config: { ...component.config, importEnabled: ['true'] } })).status).toBe(204);
    const copy = await lookUp();
    expect(copy?.id).not.toStartWith('f:');

    expect(await reconcileRealm(env)).toEqual(['ldap-russia importEnabled=false (imported copies dropped)']);
    expect((await findComponent(admin, 'ldap-russia')).config.importEnabled).toEqual(['false']);
    expect((await lookUp())?.id).toBe(`f:${component.id}:${person.uid}`);
    await expect(admin.get(`/users/${copy!.id}`)).rejects.toThrow('answered 404');
    expect(await reconcileRealm(env)).toEqual([]);
  });
});

describe('reports-jobs service account', () => {
  test('client credentials give a reports-api token carrying reports_service', async () => {
    const response = await clientCredentialsToken('reports-jobs', env.JOBS_CLIENT_SECRET!);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; expires_in: number; refresh_token?: string };
    expect(body.expires_in).toBe(300);
    expect(body.refresh_token).toBeUndefined();
    const claims = await verifyAccessToken(body.access_token);
    expect(claims.azp).toBe('reports-jobs');
    expect(claims.realm_access?.roles).toContain('reports_service');
    expect(claims.realm_access?.roles).not.toContain('administrator');
  });

  test('a wrong secret is refused, and the BFF cannot use client credentials', async () => {
    expect((await clientCredentialsToken('reports-jobs', 'wrong-secret')).status).toBe(401);
    const bff = await clientCredentialsToken('reports-bff', env.BFF_CLIENT_SECRET!);
    expect(bff.status).toBe(401);
  });
});

describe('LDAP federation', () => {
  test('people are read from their directory on every lookup, with their roles, and never copied into Keycloak', async () => {
    for (const region of REGIONS) {
      const component = await findComponent(admin, COMPONENT_OF[region].name);
      for (const person of PEOPLE.filter((p) => p.region === region)) {
        const [user] = await admin.get<Array<{ id: string; username: string; email: string; firstName: string; lastName: string; federationLink: string }>>(
          `/users?username=${encodeURIComponent(person.uid)}&exact=true`,
        );
        expect(user).toMatchObject({ username: person.uid, email: person.email, firstName: person.givenName, lastName: person.surname, federationLink: component.id });
        // Not imported: a federated id (no local row); Keycloak 26 keys it by the username, not LDAP_ID.
        expect(user!.id).toBe(`f:${component.id}:${person.uid}`);
        const { attributes } = await admin.get<{ attributes?: Record<string, string[]> }>(`/users/${encodeURIComponent(user!.id)}`);
        expect(attributes?.LDAP_ID).toEqual([await entryUuidOf(region, person.uid)]);
        const roles = (await admin.get<Array<{ name: string }>>(`/users/${encodeURIComponent(user!.id)}/role-mappings/realm/composite`)).map((r) => r.name);
        for (const role of person.roles) expect(roles).toContain(role);
        for (const other of ['prothetic_user', 'user', 'administrator', 'crm_operator'].filter((r) => !person.roles.includes(r as never))) expect(roles).not.toContain(other);
      }
    }
  });

  test('a name changed in the directory shows at the next lookup and in the next sign-in’s ID token (no central copy to go stale)', async () => {
    const person = await addDirectoryPerson(env, { uidPrefix: 'kc-live', roles: ['user'], givenName: 'Before', surname: 'Rename' });
    cleanups.push(() => forgetTotpSecret(person.uid));
    cleanups.push(() => person.remove());
    const lookUp = async () => (await admin.get<Array<{ firstName?: string }>>(`/users?username=${encodeURIComponent(person.uid)}&exact=true`))[0];
    const idTokenNames = async () => {
      const { id_token } = await fetchUserTokens({ env, username: person.uid, password: person.password });
      const { payload } = await jwtVerify(id_token, jwks, { issuer });
      return { given_name: payload.given_name, family_name: payload.family_name, name: payload.name, email: payload.email };
    };
    expect(await lookUp()).toMatchObject({ firstName: 'Before' });
    expect(await idTokenNames()).toEqual({ given_name: 'Before', family_name: 'Rename', name: 'Before Rename', email: `${person.uid}@ru.bionicpro.example` });
    const ldap = new Client({ url: env.LDAP_RU_URL!, timeout: 5_000, connectTimeout: 2_000 });
    try {
      await ldap.bind(adminDn(env.LDAP_RU_BASE_DN!), env.LDAP_RU_ADMIN_PASSWORD!);
      await ldap.modify(person.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'givenName', values: ['After'] }) }));
    } finally {
      await ldap.unbind().catch(() => {});
    }
    // The sign-in put the person in Keycloak's user cache (memory only, at most maxLifespan = 60 s):
    // production waits for it, the test evicts it.
    const federation = await findComponent(admin, 'ldap-russia');
    expect(federation.config).toMatchObject({ cachePolicy: ['MAX_LIFESPAN'], maxLifespan: ['60000'] });
    expect((await admin.send('POST', '/clear-user-cache')).status).toBe(204);
    expect(await lookUp()).toMatchObject({ firstName: 'After' });
    expect(await idTokenNames()).toMatchObject({ given_name: 'After', name: 'After Rename' });
  });
});

async function entryUuidOf(region: Region, uid: string): Promise<string> {
  const baseDn = region === 'ru' ? env.LDAP_RU_BASE_DN! : env.LDAP_EU_BASE_DN!;
  const client = new Client({ url: COMPONENT_OF[region].url, timeout: 5_000, connectTimeout: 2_000 });
  try {
    await client.bind(readerDn(baseDn), region === 'ru' ? env.LDAP_RU_READER_PASSWORD! : env.LDAP_EU_READER_PASSWORD!);
    const { searchEntries } = await client.search(`ou=people,${baseDn}`, { scope: 'one', filter: `(uid=${uid})`, attributes: ['entryUUID'] });
    return String(searchEntries[0]?.entryUUID);
  } finally {
    await client.unbind().catch(() => {});
  }
}

async function refresh(refreshToken: string): Promise<Response> {
  return fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'reports-bff', client_secret: env.BFF_CLIENT_SECRET! }),
  });
}

// ---------------------------------------------------------------------------------------------
// A real browser login of a temporary directory person, as the BFF will do it.

class Browser {
  private readonly cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
    // Keycloak moves between its own pages (required actions) by redirects; the BFF callback is where we stop.
    const location = response.headers.get('location');
    if (response.status === 302 && location?.startsWith(`${issuer}/`)) return this.request(location);
    return response;
  }

  async submit(html: string, formId: string, fields: Record<string, string>): Promise<Response> {
    const form = new RegExp(`<form[^>]*id="${formId}"[^>]*action="([^"]+)"`).exec(html) ?? new RegExp(`<form[^>]*action="([^"]+)"[^>]*id="${formId}"`).exec(html);
    if (!form) throw new Error(`form #${formId} not on the page:\n${html.slice(0, 3000)}`);
    const action = form[1]!.replaceAll('&amp;', '&');
    return this.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  }
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function totpAt(secret: string, stepOffset: number): string {
  const counter = BigInt(Math.floor(Date.now() / 1000 / 30) + stepOffset);
  return generateHOTP(new TextEncoder().encode(secret), counter, 6);
}

async function startLogin(browser: Browser, extra: Record<string, string> = {}) {
  const verifier = base64url(randomBytes(32));
  const state = randomUUID();
  const nonce = randomUUID();
  const params = new URLSearchParams({
    client_id: 'reports-bff',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    state,
    nonce,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  });
  const response = await browser.request(`${issuer}/protocol/openid-connect/auth?${params}`);
  return { response, verifier, state, nonce };
}

async function exchangeCode(location: string, verifier: string, state: string) {
  const url = new URL(location);
  expect(url.origin + url.pathname).toBe(redirectUri);
  expect(url.searchParams.get('state')).toBe(state);
  const code = url.searchParams.get('code');
  expect(code).toBeTruthy();
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: 'reports-bff',
      client_secret: env.BFF_CLIENT_SECRET!,
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; id_token: string; refresh_token: string };
}

/**
 * Keycloak's brute-force detection locks a person out for minimumQuickLoginWaitSeconds (60 s) when
 * two failures come less than quickLoginCheckMilliSeconds apart, and it records failures (and clears
 * them on a success) asynchronously, so whether two quick deliberate failures lock the person out
 * depends on thread timing. Before a deliberate failure, wait until the person's last recorded
 * failure is older than the quick-login window, as a person typing would.
 */
async function waitOutQuickLoginWindow(username: string, lastOwnFailureAt: number): Promise<void> {
  const fresh = await connectAdmin(env);
  const { quickLoginCheckMilliSeconds } = await fresh.get<{ quickLoginCheckMilliSeconds: number }>('');
  const [user] = await fresh.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(username)}&exact=true`);
  expect(user).toBeDefined();
  const clear = Date.now() + 30_000;
  for (;;) {
    const status = await fresh.get<{ disabled: boolean; lastFailure: number }>(`/attack-detection/brute-force/users/${user!.id}`);
    expect(status.disabled).toBe(false);
    const lastFailure = Math.max(status.lastFailure ?? 0, lastOwnFailureAt);
    if (Date.now() - lastFailure > quickLoginCheckMilliSeconds + 200) return;
    if (Date.now() > clear) throw new Error(`${username}: a failure stays recorded within the last ${quickLoginCheckMilliSeconds} ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(50, quickLoginCheckMilliSeconds + 250 - (Date.now() - lastFailure))));
  }
}

describe('brute-force detection', () => {
  test('a username guessed wrong until lockout is held only for a while: the account stays enabled and unlocks', async () => {
    const person = await addDirectoryPerson(env, { uidPrefix: 'kcbf', roles: ['user'], givenName: 'Тест', surname: 'Перебор' });
    cleanups.push(person.remove);
    const realm = await admin.get<{ failureFactor: number }>('');
    // Failures a second apart, so they count as ordinary failures rather than one quick burst.
    for (let attempt = 0; attempt < realm.failureFactor; attempt++) {
      const browser = new Browser();
      const { response } = await startLogin(browser);
      const refused = await browser.submit(await response.text(), 'kc-form-login', { username: person.uid, password: `guess-${attempt}`, credentialId: '' });
      expect(refused.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    const [user] = await admin.get<Array<{ id: string; enabled: boolean }>>(`/users?username=${encodeURIComponent(person.uid)}&exact=true`);
    const status = await admin.get<{ disabled: boolean; numFailures: number }>(`/attack-detection/brute-force/users/${user!.id}`);
    expect(status.disabled).toBe(true);
    // Temporarily locked, never disabled: a permanent lockout would have switched the account off.
    expect(user!.enabled).toBe(true);
    const { status: cleared } = await admin.send('DELETE', `/attack-detection/brute-force/users/${user!.id}`);
    expect(cleared).toBe(204);
    expect((await admin.get<{ disabled: boolean }>(`/attack-detection/brute-force/users/${user!.id}`)).disabled).toBe(false);
  }, 90_000);
});

describe('browser login with mandatory TOTP', () => {
  let uid = '';
  let password = '';
  /** When this test file last made the person fail a login on purpose (ms). */
  let lastWrongAttemptAt = 0;

  beforeAll(async () => {
    const person = await addDirectoryPerson(env, { uidPrefix: 'kc', roles: ['prothetic_user'], givenName: 'Тест', surname: 'Логин' });
    ({ uid, password } = person);
    cleanups.push(person.remove);
  });

  test('an authorization request without PKCE is refused', async () => {
    const browser = new Browser();
    const params = new URLSearchParams({ client_id: 'reports-bff', response_type: 'code', scope: 'openid', redirect_uri: redirectUri, state: 's' });
    const response = await browser.request(`${issuer}/protocol/openid-connect/auth?${params}`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  test('a redirect URI other than the registered one is refused', async () => {
    const { response } = await startLogin(new Browser(), { redirect_uri: `${env.BFF_PUBLIC_URL}/auth/callback/../evil` });
    expect(response.status).toBe(400);
  });

  let totpSecret = '';

  test('first login: password, then OTP enrolment, then a code for the BFF', async () => {
    const browser = new Browser();
    const { response, verifier, state, nonce } = await startLogin(browser);
    expect(response.status).toBe(200);
    const wrong = await browser.submit(await response.text(), 'kc-form-login', { username: uid, password: 'wrong-password', credentialId: '' });
    lastWrongAttemptAt = Date.now();
    expect(wrong.status).toBe(200);
    const loginAgain = await wrong.text();
    expect(loginAgain).toContain('kc-form-login');
    const enrol = await browser.submit(loginAgain, 'kc-form-login', { username: uid, password, credentialId: '' });
    expect(enrol.status).toBe(200);
    const enrolPage = await enrol.text();
    totpSecret = /name="totpSecret" value="([^"]+)"/.exec(enrolPage)?.[1] ?? '';
    expect(totpSecret).not.toBe('');
    const done = await browser.submit(enrolPage, 'kc-totp-settings-form', { totp: totpAt(totpSecret, 0), totpSecret, userLabel: 'integration test', mode: 'manual' });
    expect(done.status).toBe(302);
    const tokens = await exchangeCode(done.headers.get('location')!, verifier, state);
    const claims = await verifyAccessToken(tokens.access_token);
    expect(claims.preferred_username).toBe(uid);
    expect(claims.azp).toBe('reports-bff');
    expect(claims.realm_access?.roles).toContain('prothetic_user');
    expect(claims.exp! - claims.iat!).toBe(300);
    const { payload: idToken } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: 'reports-bff' });
    expect(idToken.nonce).toBe(nonce);
  });

  test('next login: the password alone is not enough, a wrong code is refused, the right one passes', async () => {
    expect(totpSecret).not.toBe('');
    const browser = new Browser();
    const { response, verifier, state } = await startLogin(browser);
    const otp = await browser.submit(await response.text(), 'kc-form-login', { username: uid, password, credentialId: '' });
    expect(otp.status).toBe(200);
    const otpPage = await otp.text();
    expect(otpPage).toContain('kc-otp-login-form');
    // The wrong password of the first login must not count as a quick second failure with the wrong code.
    await waitOutQuickLoginWindow(uid, lastWrongAttemptAt);
    const wrong = await browser.submit(otpPage, 'kc-otp-login-form', { otp: '000000' === totpAt(totpSecret, 1) ? '111111' : '000000' });
    lastWrongAttemptAt = Date.now();
    expect(wrong.status).toBe(200);
    const otpAgain = await wrong.text();
    expect(otpAgain).toContain('kc-otp-login-form');
    // The code of the enrolment step may not be reused; the next step's code is inside the look-ahead window.
    const done = await browser.submit(otpAgain, 'kc-otp-login-form', { otp: totpAt(totpSecret, 1) });
    expect(done.status).toBe(302);
    const tokens = await exchangeCode(done.headers.get('location')!, verifier, state);
    expect((await verifyAccessToken(tokens.access_token)).preferred_username).toBe(uid);

    // Refresh-token rotation: each refresh hands out a new refresh token and the old one is spent.
    expect(tokens.refresh_token).toBeTruthy();
    const first = await refresh(tokens.refresh_token);
    expect(first.status).toBe(200);
    const rotated = (await first.json()) as { access_token: string; refresh_token: string };
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect((await verifyAccessToken(rotated.access_token)).preferred_username).toBe(uid);
    const replay = await refresh(tokens.refresh_token);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    // Reuse detection: the replay ended the client's session, so the current token (a thief's or the
    // BFF's, whichever came second) is refused too and the person must sign in again.
    const after = await refresh(rotated.refresh_token);
    expect(after.status).toBe(400);
    expect(((await after.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
