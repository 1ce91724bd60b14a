import type { Probe } from './health-ready.ts';

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

const globalFetch: Fetch = (url, init) => fetch(url, init);

/** The realm's key set answers and holds at least one RS256 signing key. */
export function jwksProbe(jwksUrl: string, timeoutMs: number, fetchUrl: Fetch = globalFetch): Probe {
  return async () => {
    const response = await fetchUrl(jwksUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: Array<{ kty?: string; alg?: string; use?: string }> };
    const usable = (body.keys ?? []).filter((key) => key.kty === 'RSA' && (key.alg === undefined || key.alg === 'RS256') && key.use !== 'enc');
    if (usable.length === 0) throw new Error('JWKS holds no RS256 signing key');
  };
}

/** Another service of ours answers its liveness route with 200. */
export function liveProbe(serviceUrl: string, timeoutMs: number, fetchUrl: Fetch = globalFetch): Probe {
  return async () => {
    const response = await fetchUrl(`${serviceUrl}/health/live`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.status !== 200) throw new Error(`${serviceUrl}/health/live answered ${response.status}`);
  };
}
