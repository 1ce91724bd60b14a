import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createRealmKeySet, createAccessTokenVerifier } from '../../common/auth/verify-access-token.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';
import { createTestPerson, serviceAccountToken, type TestPerson } from './support/keycloak-people.ts';

// Token checks against the real realm: genuine tokens pass, every forgery and misuse is a 401.
let core: CoreHarness;
let person: TestPerson;
let realToken: string;

beforeAll(async () => {
  core = createCoreHarness();
  person = await createTestPerson(core.env, ['prothetic_user'], 'auth');
  realToken = await person.accessToken();
}, 120_000);

afterAll(async () => {
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await core?.close();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function statusWith(token: string, harness: CoreHarness = core) {
  const response = await harness.request('/api/reports', { token });
  const body = (await response.json()) as { error?: { code: string; details?: { reason?: string; dependency?: string } } };
  return { status: response.status, reason: body.error?.details?.reason ?? body.error?.details?.dependency, retryAfter: response.headers.get('retry-after') };
}

describe('auth.happy', () => {
  test("a real person's access token from the BFF client is accepted", async () => {
    expect((await statusWith(realToken)).status).toBe(200);
  });
});

describe('auth.security', () => {
  test('an expired token is refused (core clock 10 minutes ahead of Keycloak)', async () => {
    const later = createCoreHarness({}, { now: () => Date.now() + 10 * 60_000 });
    try {
      expect(await statusWith(realToken, later)).toMatchObject({ status: 401, reason: 'expired' });
    } finally {
      await later.close();
    }
  });

  test('a token of another issuer is refused: master realm token, and core expecting another issuer', async () => {
    const master = await fetch(`${core.env.KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: core.env.KEYCLOAK_ADMIN_USER!, password: core.env.KEYCLOAK_ADMIN_PASSWORD! }),
    });
    const masterToken = ((await master.json()) as { access_token: string }).access_token;
    expect((await statusWith(masterToken)).status).toBe(401);
    const other = createCoreHarness({ KEYCLOAK_ISSUER: 'http://localhost:8080/realms/reports-realm' });
    try {
      expect(await statusWith(realToken, other)).toMatchObject({ status: 401, reason: 'bad_claims' });
    } finally {
      await other.close();
    }
  });

  test('wrong audience: the ID token, and core configured for another API', async () => {
    expect(await statusWith(await person.idToken())).toMatchObject({ status: 401, reason: 'bad_claims' });
    const other = createCoreHarness({ API_AUDIENCE: 'billing-api' });
    try {
      expect(await statusWith(realToken, other)).toMatchObject({ status: 401, reason: 'bad_claims' });
    } finally {
      await other.close();
    }
  });

  test('alg none with genuine claims is refused', async () => {
    const [header] = realToken.split('.');
    const claims = payloadOf(realToken);
    for (const alg of ['none', 'None', 'NONE']) {
      const forged = `${b64({ ...JSON.parse(Buffer.from(header!, 'base64url').toString()), alg })}.${b64(claims)}.`;
      expect((await statusWith(forged)).status).toBe(401);
    }
  });

  test('HS256 keyed with the realm public key (key confusion) is refused', async () => {
    const { kid } = decodeProtectedHeader(realToken);
    const jwks = (await (await fetch(core.config.KEYCLOAK_JWKS_URL)).json()) as { keys: Array<Record<string, unknown>> };
    const realmKey = jwks.keys.find((k) => k.kid === kid)!;
    for (const secret of [JSON.stringify(realmKey), String(realmKey.n), 'secret']) {
      const forged = await new SignJWT(payloadOf(realToken)).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(secret));
      expect(await statusWith(forged)).toMatchObject({ status: 401, reason: 'bad_algorithm' });
    }
  });

  test('RS256 signed by a local key is refused, with the realm kid or a new one', async () => {
    const { kid } = decodeProtectedHeader(realToken);
    const { privateKey } = await generateKeyPair('RS256');
    const sameKid = await new SignJWT(payloadOf(realToken)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    expect(await statusWith(sameKid)).toMatchObject({ status: 401, reason: 'bad_signature' });
    const newKid = await new SignJWT(payloadOf(realToken)).setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' }).sign(privateKey);
    expect(await statusWith(newKid)).toMatchObject({ status: 401, reason: 'unknown_key' });
    // An embedded key (jwk header) is never trusted.
    const jwk = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
    const embedded = await new SignJWT(payloadOf(realToken)).setProtectedHeader({ alg: 'RS256', jwk }).sign(privateKey);
    expect((await statusWith(embedded)).status).toBe(401);
  });

  test('a tampered payload of a genuine token is refused', async () => {
    const [header, , signature] = realToken.split('.');
    const claims = { ...payloadOf(realToken), preferred_username: 'ivan.petrov', realm_access: { roles: ['administrator'] } };
    expect(await statusWith(`${header}.${b64(claims)}.${signature}`)).toMatchObject({ status: 401, reason: 'bad_signature' });
  });

  test('the service account token is genuine but carries no reader role (403, not 401)', async () => {
    expect((await statusWith(await serviceAccountToken(core.env))).status).toBe(403);
  });

  test('Keycloak unreachable while keys are unknown → 503 naming it, not 401', async () => {
    const down = createCoreHarness({ KEYCLOAK_JWKS_URL: 'http://127.0.0.1:1/certs' });
    try {
      expect(await statusWith(realToken, down)).toMatchObject({ status: 503, reason: 'keycloak', retryAfter: '5' });
    } finally {
      await down.close();
    }
  });
});

describe('auth: JWKS cache', () => {
  test('keys are fetched once; unknown kids refetch at most once per cooldown', async () => {
    // A counting pass-through in front of the realm's certs endpoint.
    let fetches = 0;
    const proxy = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async () => {
        fetches++;
        return fetch(core.config.KEYCLOAK_JWKS_URL);
      },
    });
    try {
      const keys = createRealmKeySet(`http://127.0.0.1:${proxy.port}/certs`, { cooldownSeconds: 1, cacheMaxAgeSeconds: 600, timeoutMs: 2000 });
      const verifier = createAccessTokenVerifier(keys, {
        issuer: core.config.KEYCLOAK_ISSUER,
        audience: 'reports-api',
        allowedClients: core.config.ALLOWED_CLIENTS,
        clockToleranceSeconds: 30,
      });
      for (let i = 0; i < 5; i++) expect((await verifier.verify(realToken)).ok).toBe(true);
      expect(fetches).toBe(1);
      const { privateKey } = await generateKeyPair('RS256');
      const forgeries = await Promise.all(
        Array.from({ length: 20 }, (_, i) => new SignJWT(payloadOf(realToken)).setProtectedHeader({ alg: 'RS256', kid: `random-${i}` }).sign(privateKey)),
      );
      // Inside the cooldown after the first fetch: a flood of unknown kids fetches nothing.
      for (const forged of forgeries) expect((await verifier.verify(forged)).ok).toBe(false);
      expect(fetches).toBe(1);
      // After the cooldown: the first unknown kid refetches once, the rest of the flood does not.
      await Bun.sleep(1100);
      for (const forged of forgeries) expect((await verifier.verify(forged)).ok).toBe(false);
      expect(fetches).toBe(2);
      expect((await verifier.verify(realToken)).ok).toBe(true);
      expect(fetches).toBe(2);
    } finally {
      await proxy.stop(true);
    }
  });
});
