import { describe, expect, test } from 'bun:test';
import type { AccessTokenVerifier, VerifyResult } from '../../common/auth/verify-access-token.ts';
import { rememberVerifiedTokens } from '../../core/verified-tokens.ts';

// Pure logic of the remembered-token layer; real Keycloak tokens go through it in auth.int.test.ts.
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const tokenWith = (payload: Record<string, unknown>, signature = 'sig') => `${b64({ alg: 'RS256' })}.${b64(payload)}.${signature}`;

function countingVerifier(accept: (token: string) => boolean): AccessTokenVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(token: string): Promise<VerifyResult> {
      verifier.calls++;
      return accept(token)
        ? { ok: true, principal: { username: 'ivan', subject: 's', roles: new Set(['prothetic_user']), clientId: 'reports-bff', isServiceAccount: false } }
        : { ok: false, reason: 'bad_signature', detail: 'signature does not verify' };
    },
  };
  return verifier;
}

describe('remembered verified tokens', () => {
  test('an accepted token is verified once until it expires', async () => {
    let nowMs = 1_000_000;
    const inner = countingVerifier(() => true);
    const verifier = rememberVerifiedTokens(inner, { now: () => nowMs });
    const token = tokenWith({ exp: 1_030 });
    for (let i = 0; i < 5; i++) expect((await verifier.verify(token)).ok).toBe(true);
    expect(inner.calls).toBe(1);
    nowMs = 1_030_000; // exp reached: verified in full again (and refused by the real verifier then)
    await verifier.verify(token);
    expect(inner.calls).toBe(2);
  });

  test('at most maxAgeMs, whatever exp says', async () => {
    let nowMs = 0;
    const inner = countingVerifier(() => true);
    const verifier = rememberVerifiedTokens(inner, { now: () => nowMs, maxAgeMs: 1_000 });
    const token = tokenWith({ exp: 10_000 });
    await verifier.verify(token);
    nowMs = 999;
    await verifier.verify(token);
    expect(inner.calls).toBe(1);
    nowMs = 1_000;
    await verifier.verify(token);
    expect(inner.calls).toBe(2);
  });

  test('refusals are not remembered, and a token differing in any byte is verified in full', async () => {
    const good = tokenWith({ exp: 9_999_999_999, sub: 'ivan' });
    const forged = tokenWith({ exp: 9_999_999_999, sub: 'admin' }); // same signature segment, other payload
    const inner = countingVerifier((token) => token === good);
    const verifier = rememberVerifiedTokens(inner, { now: () => 0 });
    expect((await verifier.verify(good)).ok).toBe(true);
    expect((await verifier.verify(forged)).ok).toBe(false);
    expect((await verifier.verify(forged)).ok).toBe(false);
    expect(inner.calls).toBe(3);
  });
});
