import { signPurgeRequest } from '../../common/cdn/signing.ts';

export type PurgeTarget = { prefixes: string[] } | { all: true };

export interface PurgeResult {
  attempted: boolean;
  ok: boolean;
  status?: number;
  error?: string;
  /** What the edge answered (it reports what it dropped), if JSON. */
  response?: unknown;
}

export interface CdnPurger {
  purge(target: PurgeTarget): Promise<PurgeResult>;
}

/**
 * Purges the CDN edge's cached copies (POST ${CDN_URL}/purge, HMAC-signed, see common/cdn/signing.ts).
 * Best effort: S3 is the source of truth and the edge revalidates, so a failed purge is reported
 * to the caller, never thrown.
 */
export function createCdnPurger(options: { cdnUrl: string; signingKey: string; timeoutMs: number; now: () => number; fetch?: typeof fetch }): CdnPurger {
  const send = options.fetch ?? fetch;
  return {
    async purge(target) {
      const body = JSON.stringify(target);
      try {
        const headers = await signPurgeRequest(body, options.signingKey, Math.floor(options.now() / 1000));
        const response = await send(`${options.cdnUrl}/purge`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const text = await response.text();
        let parsed: unknown = undefined;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text.slice(0, 200);
        }
        return { attempted: true, ok: response.ok, status: response.status, response: parsed };
      } catch (error) {
        return { attempted: true, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
