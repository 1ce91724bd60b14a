
import { withTimeout } from '../../common/with-timeout.ts';
/** A readiness check of one dependency: resolves when it answers a real request. */
export type Probe = () => Promise<void>;

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export async function runProbe(probe: Probe, timeoutMs: number, name: string): Promise<ProbeResult> {
  const started = performance.now();
  try {
    await withTimeout(probe(), timeoutMs, name);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) };
  }
}

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
