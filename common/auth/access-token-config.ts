import { z } from 'zod';
import { csvField, httpUrlField, intField, realmNameField } from '../config-fields.ts';
import { createAccessTokenVerifier, createRealmKeySet, type AccessTokenVerifier } from './verify-access-token.ts';

/** Env fields of a service that accepts Keycloak access tokens (core, jobs). */
export const accessTokenFields = {
  KEYCLOAK_URL: httpUrlField,
  KEYCLOAK_REALM: realmNameField,
  /** Defaults to `${KEYCLOAK_URL}/realms/${KEYCLOAK_REALM}`; must equal the `iss` Keycloak writes. */
  KEYCLOAK_ISSUER: httpUrlField.optional(),
  /** Defaults to the realm's certs endpoint. */
  KEYCLOAK_JWKS_URL: httpUrlField.optional(),
  /** The `aud` every access token must carry. */
  API_AUDIENCE: z.string().min(1).default('reports-api'),
  /** Clients (`azp`) whose tokens are accepted: the BFF for people, the jobs service account. */
  ALLOWED_CLIENTS: csvField('reports-bff,reports-jobs'),
  JWT_CLOCK_TOLERANCE_SECONDS: intField(30, 0, 120),
  /** Least time between two JWKS refetches triggered by unknown key ids. */
  JWKS_COOLDOWN_SECONDS: intField(30, 1, 3600),
  JWKS_CACHE_MAX_AGE_SECONDS: intField(600, 60, 86_400),
};

type ParsedAccessTokenFields = z.output<z.ZodObject<typeof accessTokenFields>>;

/** The realm's base URL, and the issuer and key set URL unless the env set them. */
export function resolveRealmUrls(config: Pick<ParsedAccessTokenFields, 'KEYCLOAK_URL' | 'KEYCLOAK_REALM' | 'KEYCLOAK_ISSUER' | 'KEYCLOAK_JWKS_URL'>) {
  const realmUrl = `${config.KEYCLOAK_URL.replace(/\/$/, '')}/realms/${config.KEYCLOAK_REALM}`;
  return {
    realmUrl,
    issuer: config.KEYCLOAK_ISSUER ?? realmUrl,
    jwksUrl: config.KEYCLOAK_JWKS_URL ?? `${realmUrl}/protocol/openid-connect/certs`,
  };
}

export type AccessTokenConfig = ParsedAccessTokenFields & { KEYCLOAK_ISSUER: string; KEYCLOAK_JWKS_URL: string };

/** The verifier a service builds from those fields: the realm key set (cached by jose) and the policy. */
export function createAccessTokenVerifierFromConfig(config: AccessTokenConfig, options: { timeoutMs: number; now?: () => number }): AccessTokenVerifier {
  const keySet = createRealmKeySet(config.KEYCLOAK_JWKS_URL, {
    cooldownSeconds: config.JWKS_COOLDOWN_SECONDS,
    cacheMaxAgeSeconds: config.JWKS_CACHE_MAX_AGE_SECONDS,
    timeoutMs: options.timeoutMs,
  });
  return createAccessTokenVerifier(keySet, {
    issuer: config.KEYCLOAK_ISSUER,
    audience: config.API_AUDIENCE,
    allowedClients: config.ALLOWED_CLIENTS,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    now: options.now,
  });
}
