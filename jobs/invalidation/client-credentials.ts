import { JobError } from '../retry.ts';

/** An access token of the jobs service account, fetched when needed and reused until near expiry. */
export interface TokenSource {
  token(): Promise<string>;
  /** Drops the cached token (core said 401: revoked, or the realm keys rotated). */
  forget(): void;
}

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  now: () => number;
  fetch?: typeof fetch;
}

/** Refresh this long before `expires_in` runs out, so a token never expires on the way to core. */
const EXPIRY_MARGIN_SECONDS = 30;

/**
 * OAuth 2.0 client-credentials grant against Keycloak (client `reports-jobs`), with the token
 * cached and concurrent callers sharing one request.
 */
export function createClientCredentialsTokenSource(options: ClientCredentialsOptions): TokenSource {
  const send = options.fetch ?? fetch;
  let cached: { token: string; expiresAtMs: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: options.clientId, client_secret: options.clientSecret });
    let response: Response;
    try {
      response = await send(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new JobError('keycloak_unreachable', `token request to Keycloak failed: ${error instanceof Error ? error.message : String(error)}`, { retry: true, cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      // 400/401 invalid_client means a wrong secret or client: retrying cannot fix configuration.
      const retry = response.status >= 500 || response.status === 429;
      let reason = '';
      try {
        reason = String((JSON.parse(text) as { error?: string }).error ?? '');
      } catch {
        /* not JSON */
      }
      throw new JobError('token_refused', `Keycloak refused the client-credentials grant for ${options.clientId}: ${response.status} ${reason}`.trim(), { retry });
    }
    const parsed = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new JobError('token_malformed', 'Keycloak answered without an access_token', { retry: false });
    }
    const lifetimeSeconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    cached = { token: parsed.access_token, expiresAtMs: options.now() + Math.max(5, lifetimeSeconds - EXPIRY_MARGIN_SECONDS) * 1000 };
    return parsed.access_token;
  }

  return {
    async token() {
      if (cached && cached.expiresAtMs > options.now()) return cached.token;
      inFlight ??= fetchToken().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    forget() {
      cached = undefined;
    },
  };
}
