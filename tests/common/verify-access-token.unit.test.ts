import { describe, expect, test } from 'bun:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createAccessTokenVerifier } from '../../common/auth/verify-access-token.ts';

// Pure logic over a local key set; tests/core/auth.int.test.ts repeats the attacks against Keycloak.
const ISSUER = 'http://127.0.0.1:8080/realms/reports-realm';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const { privateKey: otherKey } = await generateKeyPair('RS256');
const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'realm-key', alg: 'RS256', use: 'sig' };
const keys = createLocalJWKSet({ keys: [jwk] });
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const verifier = createAccessTokenVerifier(keys, { issuer: ISSUER, audience: 'reports-api', allowedClients: ['reports-bff', 'reports-jobs'], clockToleranceSeconds: 30, now: () => NOW });

const claims = {
  typ: 'Bearer',
  azp: 'reports-bff',
  preferred_username: 'ivan.petrov',
  realm_access: { roles: ['prothetic_user'] },
};

function token(overrides: Record<string, unknown> = {}, options: { key?: CryptoKey; kid?: string; iat?: number; exp?: number; aud?: string | string[]; iss?: string } = {}) {
  const iat = options.iat ?? NOW / 1000 - 10;
  return new SignJWT({ ...claims, ...overrides })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'realm-key', typ: 'JWT' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? ['reports-api', 'account'])
    .setSubject('5b0c6a0e-1111-4c4c-9c9c-000000000001')
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 300)
    .sign(options.key ?? privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access token verification', () => {
  test('a valid token yields the principal from its claims', async () => {
    const result = await verifier.verify(await token());
    expect(result).toMatchObject({ ok: true, principal: { username: 'ivan.petrov', clientId: 'reports-bff', isServiceAccount: false } });
    if (result.ok) expect([...result.principal.roles]).toEqual(['prothetic_user']);
  });

  test('expired beyond the leeway is refused; within it accepted', async () => {
    expect(await verifier.verify(await token({}, { iat: NOW / 1000 - 400, exp: NOW / 1000 - 31 }))).toMatchObject({ ok: false, reason: 'expired' });
    expect((await verifier.verify(await token({}, { iat: NOW / 1000 - 400, exp: NOW / 1000 - 20 }))).ok).toBe(true);
  });

  test('not-before in the future is refused', async () => {
    expect(await verifier.verify(await token({ nbf: NOW / 1000 + 120 }))).toMatchObject({ ok: false, reason: 'not_yet_valid' });
  });

  test('wrong issuer, wrong audience, foreign client, ID token type are refused', async () => {
    expect(await verifier.verify(await token({}, { iss: 'http://evil/realms/reports-realm' }))).toMatchObject({ ok: false, reason: 'bad_claims' });
    expect(await verifier.verify(await token({}, { aud: 'account' }))).toMatchObject({ ok: false, reason: 'bad_claims' });
    expect(await verifier.verify(await token({ azp: 'some-other-client' }))).toMatchObject({ ok: false, reason: 'bad_claims' });
    expect(await verifier.verify(await token({ typ: 'ID' }))).toMatchObject({ ok: false, reason: 'bad_claims' });
  });

  test('missing or unusable preferred_username is refused', async () => {
    expect((await verifier.verify(await token({ preferred_username: undefined }))).ok).toBe(false);
    expect((await verifier.verify(await token({ preferred_username: '../other.user' }))).ok).toBe(false);
  });

  test('a token signed by another key with the realm kid is refused', async () => {
    expect(await verifier.verify(await token({}, { key: otherKey }))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  test('alg none and HS256 (keyed with the public key) are refused', async () => {
    const payload = { ...claims, iss: ISSUER, aud: 'reports-api', iat: NOW / 1000, exp: NOW / 1000 + 300 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expect((await verifier.verify(none)).ok).toBe(false);
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'realm-key' }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expect(await verifier.verify(hs)).toMatchObject({ ok: false, reason: 'bad_algorithm' });
  });

  test('garbage is malformed, never a crash', async () => {
    for (const junk of ['', 'a.b', 'a.b.c', '....', `${b64({ alg: 'RS256' })}.%%%.x`]) {
      const result = await verifier.verify(junk);
      expect(result.ok).toBe(false);
    }
  });
});
