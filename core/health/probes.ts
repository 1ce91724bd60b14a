import type { Probe } from '../../common/http/health-ready.ts';

/** The realm's key set answers and holds at least one RS256 signing key. */
export function jwksProbe(jwksUrl: string, timeoutMs: number): Probe {
  return async () => {
    const response = await fetch(jwksUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: Array<{ kty?: string; alg?: string; use?: string }> };
    const usable = (body.keys ?? []).filter((key) => key.kty === 'RSA' && (key.alg === undefined || key.alg === 'RS256') && key.use !== 'enc');
    if (usable.length === 0) throw new Error('JWKS holds no RS256 signing key');
  };
}
