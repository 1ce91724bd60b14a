import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isSafeUsername, type Principal } from './principal.ts';

export interface AccessTokenPolicy {
  issuer: string;
  audience: string;
  allowedClients: readonly string[];
  clockToleranceSeconds: number;
  /** Injected clock (tests check expiry with it); defaults to the system clock. */
  now?: () => number;
}

/** Why a token was refused; coarse on purpose (enough for a client to decide to refresh). */
export type TokenRejection = 'malformed' | 'expired' | 'not_yet_valid' | 'bad_signature' | 'unknown_key' | 'bad_algorithm' | 'bad_claims';

export type VerifyResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: TokenRejection; detail: string }
  /** The key set could not be fetched: not the caller's fault, answered as 503. */
  | { ok: false; reason: 'keys_unavailable'; detail: string };

export interface AccessTokenVerifier {
  verify(token: string): Promise<VerifyResult>;
}

/**
 * The realm's key set, cached by jose: keys are kept for `cacheMaxAgeSeconds`; a token with an
 * unknown `kid` triggers one refetch, and refetches happen at most once per `cooldownSeconds`
 * (so a flood of forged kids cannot hammer Keycloak).
 */
export function createRealmKeySet(jwksUrl: string, options: { cooldownSeconds: number; cacheMaxAgeSeconds: number; timeoutMs: number }) {
  return createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: options.cooldownSeconds * 1000,
    cacheMaxAge: options.cacheMaxAgeSeconds * 1000,
    timeoutDuration: options.timeoutMs,
  });
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function realmRoles(payload: JWTPayload): Set<string> {
  const access = payload.realm_access;
  if (!access || typeof access !== 'object') return new Set();
  const roles = (access as { roles?: unknown }).roles;
  return new Set(Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : []);
}

function classify(error: unknown): { reason: TokenRejection | 'keys_unavailable'; detail: string } {
  if (error instanceof errors.JWTExpired) return { reason: 'expired', detail: 'token expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'nbf' ? { reason: 'not_yet_valid', detail: 'token not yet valid' } : { reason: 'bad_claims', detail: `claim ${error.claim} rejected` };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { reason: 'bad_algorithm', detail: 'only RS256 is accepted' };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: 'bad_signature', detail: 'signature does not verify' };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return { reason: 'unknown_key', detail: 'no realm key matches the token' };
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return { reason: 'keys_unavailable', detail: 'realm keys could not be fetched' };
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return { reason: 'malformed', detail: 'token is not a valid JWS' };
  if (error instanceof errors.JOSEError) return { reason: 'malformed', detail: error.code };
  // fetch failures (connection refused, DNS) surface as plain errors from the key set.
  return { reason: 'keys_unavailable', detail: 'realm keys could not be fetched' };
}

/**
 * Verifies a Keycloak access token: RS256 signature by a realm key (no fallback key, nothing read
 * before the signature verifies), issuer, audience, authorized party, expiry and not-before with
 * a small leeway, and Keycloak's `typ: Bearer` (so an ID token is never accepted as access).
 */
export function createAccessTokenVerifier(keys: JWTVerifyGetKey, policy: AccessTokenPolicy): AccessTokenVerifier {
  return {
    async verify(token) {
      if (token.split('.').length !== 3) return { ok: false, reason: 'malformed', detail: 'token is not a compact JWS' };
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          issuer: policy.issuer,
          audience: policy.audience,
          clockTolerance: policy.clockToleranceSeconds,
          requiredClaims: ['exp', 'iat', 'azp'],
          currentDate: policy.now ? new Date(policy.now()) : undefined,
        }));
      } catch (error) {
        const { reason, detail } = classify(error);
        return { ok: false, reason, detail } as VerifyResult;
      }
      const typ = stringClaim(payload, 'typ');
      if (typ !== undefined && typ !== 'Bearer') return { ok: false, reason: 'bad_claims', detail: `token type ${typ} is not an access token` };
      const clientId = stringClaim(payload, 'azp');
      if (!clientId || !policy.allowedClients.includes(clientId)) return { ok: false, reason: 'bad_claims', detail: 'claim azp rejected' };
      const username = stringClaim(payload, 'preferred_username');
      if (!username || !isSafeUsername(username)) return { ok: false, reason: 'bad_claims', detail: 'claim preferred_username missing or unusable' };
      return {
        ok: true,
        principal: {
          username,
          subject: stringClaim(payload, 'sub'),
          roles: realmRoles(payload),
          clientId,
          isServiceAccount: username.startsWith('service-account-'),
          region: stringClaim(payload, 'region'),
        },
      };
    },
  };
}
