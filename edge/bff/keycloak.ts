import { ArcticFetchError, KeyCloak, OAuth2RequestError, type OAuth2Tokens } from 'arctic';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { BffConfig } from '../config.ts';
import type { SessionTokens, SessionUser } from './session/sessions.ts';

/**
 * The BFF's side of OpenID Connect with Keycloak: authorization URL (PKCE S256 via arctic, plus a
 * nonce), code exchange, refresh and revocation (arctic), and token verification (jose, JWKS).
 */

export interface TokenGrant {
  tokens: SessionTokens;
  accessExpiresAtMs: number;
  refreshExpiresAtMs: number | null;
}

/** Keycloak said no (bad code, revoked or expired refresh token): the caller's grant is dead. */
export class GrantRejected extends Error {
  readonly oauthCode: string;
  constructor(oauthCode: string, description: string | null) {
    super(`Keycloak rejected the grant: ${oauthCode}${description ? ` (${description})` : ''}`);
    this.name = 'GrantRejected';
    this.oauthCode = oauthCode;
  }
}

/** Keycloak could not be reached or answered nonsense: retry later, keep the session. */
export class IdpUnavailable extends Error {
  constructor(what: string, cause: unknown) {
    super(`Keycloak unavailable during ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'IdpUnavailable';
  }
}

/** An ID or access token failed verification. */
export class TokenInvalid extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenInvalid';
    this.reason = reason;
  }
}

export interface IdentityProvider {
  authorizationUrl(request: { state: string; codeVerifier: string; nonce: string }): URL;
  exchangeCode(code: string, codeVerifier: string): Promise<TokenGrant>;
  refresh(refreshToken: string): Promise<TokenGrant>;
  revoke(refreshToken: string): Promise<void>;
  /** Verifies the ID token (signature, issuer, audience, expiry, nonce) and the access token, and reads the user from them. */
  identify(tokens: SessionTokens, expectedNonce: string | null): Promise<SessionUser>;
  /** Where the browser ends its Keycloak SSO session; carries no token. */
  endSessionUrl(postLogoutRedirectUri: string): string;
  /**
   * Ends the Keycloak SSO session the ID token belongs to (RP-initiated logout with
   * `id_token_hint`, from the back channel: the token never reaches the browser). Every client
   * session in it ends too, not only this client's.
   */
  endSsoSession(idToken: string): Promise<void>;
  /**
   * Verifies an OIDC back-channel logout token (signature with the realm keys, iss, aud = this
   * client, iat/exp, the back-channel logout event, sid or sub, no nonce) and says whose sessions
   * it ends. Throws TokenInvalid when any check fails.
   */
  verifyLogoutToken(logoutToken: string): Promise<LogoutClaims>;
}

export interface LogoutClaims {
  jti: string;
  sid: string | null;
  sub: string | null;
  /** When the token stops being acceptable anyway (its jti need not be remembered past it). */
  expiresAtMs: number;
}

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Keycloak's logout tokens live as long as an access token at most; without exp, refuse after this. */
const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;

export interface KeycloakOptions {
  config: BffConfig;
  now: () => number;
  /** Injected in tests; defaults to the realm's JWKS endpoint, cached by jose. */
  keys?: JWTVerifyGetKey;
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function realmRoles(payload: JWTPayload): string[] {
  const access = payload.realm_access as { roles?: unknown } | undefined;
  return Array.isArray(access?.roles) ? access.roles.filter((role): role is string => typeof role === 'string') : [];
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdpUnavailable(what, new Error(`no answer within ${timeoutMs} ms`))), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} rejected`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'unknown signing key';
  if (error instanceof joseErrors.JOSEError) return error.code;
  return 'unverifiable';
}

export function createKeycloakProvider(options: KeycloakOptions): IdentityProvider {
  const { config, now } = options;
  const issuer = config.KEYCLOAK_ISSUER;
  const publicRealmUrl = `${config.KEYCLOAK_PUBLIC_URL ?? config.KEYCLOAK_URL}/realms/${config.KEYCLOAK_REALM}`;
  const browserSide = new KeyCloak(publicRealmUrl, config.BFF_CLIENT_ID, config.BFF_CLIENT_SECRET, config.REDIRECT_URI);
  const backChannel = new KeyCloak(issuer, config.BFF_CLIENT_ID, config.BFF_CLIENT_SECRET, config.REDIRECT_URI);
  const keys = options.keys ?? createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 });
  const timeoutMs = config.UPSTREAM_TIMEOUT_MS;

  const toGrant = (tokens: OAuth2Tokens, previous?: SessionTokens): TokenGrant => {
    const data = tokens.data as { refresh_expires_in?: unknown; id_token?: unknown; refresh_token?: unknown };
    const refreshExpiresIn = typeof data.refresh_expires_in === 'number' && data.refresh_expires_in > 0 ? data.refresh_expires_in : null;
    return {
      tokens: {
        accessToken: tokens.accessToken(),
        refreshToken: typeof data.refresh_token === 'string' ? data.refresh_token : (previous?.refreshToken ?? null),
        idToken: typeof data.id_token === 'string' ? data.id_token : (previous?.idToken ?? null),
      },
      accessExpiresAtMs: now() + tokens.accessTokenExpiresInSeconds() * 1000,
      refreshExpiresAtMs: refreshExpiresIn === null ? null : now() + refreshExpiresIn * 1000,
    };
  };

  const callTokenEndpoint = async (what: string, call: () => Promise<OAuth2Tokens>): Promise<OAuth2Tokens> => {
    try {
      return await withTimeout(call(), timeoutMs, what);
    } catch (error) {
      if (error instanceof OAuth2RequestError) throw new GrantRejected(error.code, error.description);
      if (error instanceof IdpUnavailable) throw error;
      if (error instanceof ArcticFetchError) throw new IdpUnavailable(what, error.cause);
      throw new IdpUnavailable(what, error);
    }
  };

  const verify = async (token: string, audience: string, what: string, extra: { requiredClaims?: string[]; maxTokenAge?: number } = {}): Promise<JWTPayload> => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer,
        audience,
        clockTolerance: config.JWT_CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now()),
        requiredClaims: extra.requiredClaims ?? ['exp', 'iat', 'sub'],
        maxTokenAge: extra.maxTokenAge,
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && !(error instanceof joseErrors.JOSEError))) throw new IdpUnavailable(`${what} key fetch`, error);
      throw new TokenInvalid(`${what}: ${describeJoseError(error)}`);
    }
  };

  return {
    authorizationUrl({ state, codeVerifier, nonce }) {
      const url = browserSide.createAuthorizationURL(state, codeVerifier, ['openid', 'profile', 'email']);
      url.searchParams.set('nonce', nonce);
      return url;
    },

    async exchangeCode(code, codeVerifier) {
      return toGrant(await callTokenEndpoint('code exchange', () => backChannel.validateAuthorizationCode(code, codeVerifier)));
    },

    async refresh(refreshToken) {
      return toGrant(await callTokenEndpoint('token refresh', () => backChannel.refreshAccessToken(refreshToken)), { accessToken: '', refreshToken, idToken: null });
    },

    async revoke(refreshToken) {
      try {
        await withTimeout(backChannel.revokeToken(refreshToken), timeoutMs, 'token revocation');
      } catch (error) {
        if (error instanceof OAuth2RequestError) throw new GrantRejected(error.code, error.description);
        throw error instanceof IdpUnavailable ? error : new IdpUnavailable('token revocation', error);
      }
    },

    async identify(tokens, expectedNonce) {
      if (!tokens.idToken) throw new TokenInvalid('no ID token (scope openid missing?)');
      const id = await verify(tokens.idToken, config.BFF_CLIENT_ID, 'ID token');
      if (expectedNonce !== null && stringClaim(id, 'nonce') !== expectedNonce) throw new TokenInvalid('ID token: nonce does not match this login');
      const azp = stringClaim(id, 'azp');
      if (azp !== null && azp !== config.BFF_CLIENT_ID) throw new TokenInvalid('ID token: issued to another client');
      const access = await verify(tokens.accessToken, config.API_AUDIENCE, 'access token');
      const username = stringClaim(id, 'preferred_username');
      if (!username) throw new TokenInvalid('ID token: no preferred_username');
      if (id.sub !== access.sub || stringClaim(access, 'preferred_username') !== username) throw new TokenInvalid('ID and access token name different people');
      return {
        username,
        subject: id.sub!,
        name: stringClaim(id, 'name'),
        email: stringClaim(id, 'email'),
        roles: realmRoles(access),
      };
    },

    async endSsoSession(idToken) {
      let response: Response;
      try {
        response = await fetch(`${issuer}/protocol/openid-connect/logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ id_token_hint: idToken, client_id: config.BFF_CLIENT_ID }),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
      } catch (error) {
        throw new IdpUnavailable('end session', error);
      }
      // Keycloak answers its "logged out" page (200) or a redirect; 400 is a hint it refuses.
      if (response.status >= 500) throw new IdpUnavailable('end session', new Error(`HTTP ${response.status}`));
      if (response.status >= 400) throw new GrantRejected('invalid_id_token_hint', `end session answered HTTP ${response.status}`);
    },

    async verifyLogoutToken(logoutToken) {
      const claims = await verify(logoutToken, config.BFF_CLIENT_ID, 'logout token', { requiredClaims: ['iat', 'jti'], maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS });
      const events = claims.events as Record<string, unknown> | undefined;
      const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
      if (!event || typeof event !== 'object') throw new TokenInvalid('logout token: no back-channel logout event');
      // A nonce would make it look like an ID token (OIDC Back-Channel Logout 1.0 §2.4 forbids it).
      if ('nonce' in claims) throw new TokenInvalid('logout token: carries a nonce');
      const sid = stringClaim(claims, 'sid');
      const sub = stringClaim(claims, 'sub');
      if (!sid && !sub) throw new TokenInvalid('logout token: names neither sid nor sub');
      const jti = stringClaim(claims, 'jti')!;
      const expiresAtMs = typeof claims.exp === 'number' ? claims.exp * 1000 : (claims.iat! + LOGOUT_TOKEN_MAX_AGE_SECONDS) * 1000;
      return { jti, sid, sub, expiresAtMs };
    },

    endSessionUrl(postLogoutRedirectUri) {
      const url = new URL(`${publicRealmUrl}/protocol/openid-connect/logout`);
      url.searchParams.set('client_id', config.BFF_CLIENT_ID);
      url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
      return url.toString();
    },
  };
}
