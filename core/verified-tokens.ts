import { LRUCache } from 'lru-cache';
import type { Principal } from '../common/auth/principal.ts';
import type { AccessTokenVerifier } from '../common/auth/verify-access-token.ts';

export interface RememberedTokensOptions {
  now: () => number;
  /** Bytes of token text remembered (tokens are ~1–2 KB each). */
  maxBytes?: number;
  /** Longest a verified token is remembered, however late it expires. */
  maxAgeMs?: number;
}

/** The token's own `exp` (seconds), read only after the verifier accepted its signature. */
function expiresAtMs(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remembers tokens the verifier accepted until they expire (at most `maxAgeMs`), so a client
 * that sends the same bearer token again costs a lookup instead of an RSA signature check: the
 * CPU profile of the warm report path had the RS256 verification as its largest item once the
 * reports came from memory. Keyed by the whole token text, so a token differing in any byte
 * (a forged payload under a copied signature) is verified in full. Refusals are not remembered.
 */
export function rememberVerifiedTokens(verifier: AccessTokenVerifier, options: RememberedTokensOptions): AccessTokenVerifier {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const accepted = new LRUCache<string, { principal: Principal; untilMs: number }>({
    maxSize: options.maxBytes ?? 8 * 1_048_576,
    sizeCalculation: (_value, token) => token.length * 2 + 256,
  });
  return {
    async verify(token) {
      const remembered = accepted.get(token);
      if (remembered) {
        if (options.now() < remembered.untilMs) return { ok: true, principal: remembered.principal };
        accepted.delete(token);
      }
      const result = await verifier.verify(token);
      if (result.ok) {
        const expiry = expiresAtMs(token);
        if (expiry !== undefined) accepted.set(token, { principal: result.principal, untilMs: Math.min(expiry, options.now() + maxAgeMs) });
      }
      return result;
    },
  };
}
