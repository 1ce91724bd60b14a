import { describe, expect, test } from 'bun:test';
import { getPrincipal, requireAccessToken, requireRole, type AuthEnv } from '../../common/auth/bearer-auth.ts';
import type { Principal } from '../../common/auth/principal.ts';
import type { AccessTokenVerifier, VerifyResult } from '../../common/auth/verify-access-token.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import { createMemoryLogger } from '../../common/log.ts';

// The shared middleware of core and jobs over a scripted verifier (the jose verifier has its own
// unit test, and both services' integration tests run it against Keycloak).
const owner: Principal = { username: 'ivan.petrov', subject: 's-1', roles: new Set(['prothetic_user']), clientId: 'reports-bff', isServiceAccount: false };
const verifier: AccessTokenVerifier = {
  async verify(token): Promise<VerifyResult> {
    if (token === 'good') return { ok: true, principal: owner };
    if (token === 'keys-down') return { ok: false, reason: 'keys_unavailable', detail: 'realm keys could not be fetched' };
    return { ok: false, reason: 'expired', detail: 'token expired' };
  },
};

function buildApp(roles: string[]) {
  const app = createServiceApp<AuthEnv>({ logger: createMemoryLogger(), trustIncomingRequestId: false });
  app.use('/x', requireAccessToken(verifier, { realm: 'test-realm' }), requireRole(roles));
  app.get('/x', (c) => c.json({ user: getPrincipal(c).username }));
  return app;
}

const call = (app: ReturnType<typeof buildApp>, authorization?: string) =>
  app.request('/x', { headers: authorization ? { authorization } : {} });

describe('bearer auth middleware', () => {
  test('no token: 401 missing_token, the realm named in WWW-Authenticate', async () => {
    const response = await call(buildApp(['prothetic_user']));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="test-realm"');
    expect(((await response.json()) as { error: { details: unknown } }).error.details).toEqual({ reason: 'missing_token' });
  });

  test('malformed header and a refused token: 401 with the reason', async () => {
    const malformed = await call(buildApp(['prothetic_user']), 'Basic abc');
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toBe('Bearer realm="test-realm", error="invalid_token", error_description="malformed"');
    const expired = await call(buildApp(['prothetic_user']), 'Bearer old');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('error_description="expired"');
  });

  test('realm keys unavailable: 503 with Retry-After, not the caller’s fault', async () => {
    const response = await call(buildApp(['prothetic_user']), 'Bearer keys-down');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  test('a valid token without the role: 403; with it, the handler sees the principal', async () => {
    expect((await call(buildApp(['administrator']), 'Bearer good')).status).toBe(403);
    const allowed = await call(buildApp(['administrator', 'prothetic_user']), 'Bearer good');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ user: 'ivan.petrov' });
  });
});
