import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import {
  booleanField,
  csvField,
  hostField,
  httpUrlField,
  intField,
  logLevelField,
  portField,
  realmNameField,
  s3BucketField,
  secretField,
} from '../common/config-fields.ts';

/**
 * Edge config, parsed from whatever record the runtime hands over (process.env under Node, Bun and
 * Deno, string bindings under workerd). Portable: no runtime globals here. Each app parses only
 * its own part, so a CDN-only deployment needs no Keycloak secret and vice versa.
 */

const httpUrl = httpUrlField.transform((value) => value.replace(/\/$/, ''));

export const SharedConfigSchema = z.object({
  BFF_PORT: portField(8000),
  CDN_PORT: portField(8002),
  HOST: hostField,
  LOG_LEVEL: logLevelField,
  /** The BFF's public origin: the Keycloak redirect URI and the post-logout page hang off it. */
  BFF_PUBLIC_URL: httpUrl.default('http://localhost:8000'),
  /** The SPA: where the BFF sends people after login, and an origin allowed to call both apps. */
  FRONTEND_URL: httpUrl.default('http://localhost:3000'),
  /** The CDN edge's public URL: report objects load from it, so the app's CSP must allow it. */
  CDN_URL: httpUrl.default('http://localhost:8002'),
  /** More origins allowed for CORS and the Origin check (comma-separated), beyond the two above. */
  EXTRA_ALLOWED_ORIGINS: csvField(''),
  /**
   * Behind a proxy that sets X-Forwarded-For (and strips the client's own), take the client address
   * from it for rate limits; otherwise the connection's peer address is used.
   */
  TRUST_FORWARDED_FOR: booleanField(false),
});

export const BffConfigSchema = z.object({
  KEYCLOAK_URL: httpUrl,
  KEYCLOAK_REALM: realmNameField,
  /** Browser-facing Keycloak origin, if it differs from KEYCLOAK_URL (the back channel). */
  KEYCLOAK_PUBLIC_URL: httpUrl.optional(),
  BFF_CLIENT_ID: z.string().min(1).default('reports-bff'),
  BFF_CLIENT_SECRET: secretField,
  /** The audience core requires; the BFF checks its access tokens carry it before forwarding. */
  API_AUDIENCE: z.string().min(1).default('reports-api'),
  ADMIN_ROLE: z.string().min(1).default('administrator'),
  CORE_URL: httpUrl,
  /**
   * Comma-separated secrets; the first encrypts, all decrypt, so a key rotates by prepending the
   * new one and dropping the old one after SESSION_ABSOLUTE_LIFETIME_SECONDS.
   */
  SESSION_ENCRYPTION_KEY: z
    .string()
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(secretField).min(1, 'needs at least one key')),
  SESSION_IDLE_TIMEOUT_SECONDS: intField(1800, 60, 86_400),
  SESSION_ABSOLUTE_LIFETIME_SECONDS: intField(36_000, 300, 30 * 86_400),
  LOGIN_ATTEMPT_TTL_SECONDS: intField(600, 30, 3600),
  /** Refresh the access token when it has less than this left. */
  ACCESS_TOKEN_REFRESH_SKEW_SECONDS: intField(30, 0, 240),
  JWT_CLOCK_TOLERANCE_SECONDS: intField(30, 0, 120),
  AUTH_RATE_LIMIT: intField(60, 1, 100_000),
  AUTH_RATE_WINDOW_SECONDS: intField(60, 1, 3600),
  /** /api/* calls per session and window (store-backed, 429 with Retry-After past it). */
  API_RATE_LIMIT: intField(600, 1, 100_000_000),
  API_RATE_WINDOW_SECONDS: intField(60, 1, 3600),
  API_MAX_BODY_BYTES: intField(1_048_576, 1024, 64 * 1_048_576),
  UPSTREAM_TIMEOUT_MS: intField(10_000, 100, 120_000),
  /**
   * The built app (`npm run frontend:build` → frontend/dist) this BFF serves on Node, Bun and Deno,
   * for one public origin (then FRONTEND_URL = BFF_PUBLIC_URL). Unset: no static files. Checked at
   * start by the runtime (a directory with index.html); workerd uses its ASSETS binding instead.
   */
  FRONTEND_DIST_DIR: z.string().min(1, 'must be a directory path (leave it unset to serve no static files)').optional(),
});

export const CdnConfigSchema = z.object({
  CDN_SIGNING_KEY: secretField,
  S3_ENDPOINT: httpUrl,
  S3_REGION: z.string().min(1),
  S3_BUCKET: s3BucketField,
  S3_ACCESS_KEY_ID: z.string().min(1),
  S3_SECRET_ACCESS_KEY: z.string().min(1),
  /** A cached copy is served without asking S3 for this long. */
  CDN_FRESH_SECONDS: intField(60, 0, 86_400),
  /** After that, served at once while one background request revalidates it. */
  CDN_STALE_WHILE_REVALIDATE_SECONDS: intField(300, 0, 86_400),
  /** And while S3 fails, served for this long after it was stored. */
  CDN_STALE_IF_ERROR_SECONDS: intField(86_400, 0, 7 * 86_400),
  /** Byte budget of the in-memory cache (Node, Bun). */
  CDN_CACHE_MAX_BYTES: intField(64 * 1_048_576, 1024, 4096 * 1_048_576),
  CDN_MAX_OBJECT_BYTES: intField(8 * 1_048_576, 1024, 512 * 1_048_576),
  /** What the browser may keep (never past the URL's own expiry). */
  CDN_BROWSER_MAX_AGE_SECONDS: intField(60, 0, 86_400),
  CDN_ORIGIN_TIMEOUT_MS: intField(5_000, 100, 120_000),
  /** Allowed clock difference for signed purge requests. */
  CDN_PURGE_WINDOW_SECONDS: intField(300, 10, 3600),
  /** Fresh cache hits are logged one in this many (1 = every hit); misses, errors and slow requests always. */
  CDN_LOG_HIT_SAMPLE: intField(100, 1, 1_000_000),
});

export type SharedConfig = z.output<typeof SharedConfigSchema>;
export type BffConfig = SharedConfig & z.output<typeof BffConfigSchema> & { KEYCLOAK_ISSUER: string; REDIRECT_URI: string; ALLOWED_ORIGINS: string[] };
export type CdnConfig = SharedConfig & z.output<typeof CdnConfigSchema> & { ALLOWED_ORIGINS: string[] };
/** Kept for the entry files: the listener settings every app shares. */
export type EdgeConfig = SharedConfig;

function allowedOrigins(shared: SharedConfig): string[] {
  return [...new Set([shared.BFF_PUBLIC_URL, shared.FRONTEND_URL, ...shared.EXTRA_ALLOWED_ORIGINS].map((url) => new URL(url).origin))];
}

export function loadEdgeConfig(env: Record<string, string | undefined>): EdgeConfig {
  return parseConfig('edge', SharedConfigSchema, env);
}

export function loadBffConfig(env: Record<string, string | undefined>): BffConfig {
  const config = parseConfig('edge (bff)', SharedConfigSchema.extend(BffConfigSchema.shape), env);
  const issuer = `${config.KEYCLOAK_URL}/realms/${config.KEYCLOAK_REALM}`;
  return { ...config, KEYCLOAK_ISSUER: issuer, REDIRECT_URI: `${config.BFF_PUBLIC_URL}/auth/callback`, ALLOWED_ORIGINS: allowedOrigins(config) };
}

export function loadCdnConfig(env: Record<string, string | undefined>): CdnConfig {
  const config = parseConfig('edge (cdn)', SharedConfigSchema.extend(CdnConfigSchema.shape), env);
  return { ...config, ALLOWED_ORIGINS: allowedOrigins(config) };
}
