import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import { booleanField, hostField, logLevelField, portField } from '../common/config-fields.ts';

const url = z.url({ protocol: /^https?$/ });
const secret = z.string().min(16, 'must be at least 16 characters (a generated secret)');
const csv = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(1).max(max).default(fallback);

export const CoreConfigSchema = z
  .object({
    PORT: portField(8001),
    HOST: hostField,
    LOG_LEVEL: logLevelField,
    /** Core sits behind the edge, which mints request ids; accept them so one id spans both logs. */
    TRUST_REQUEST_ID: booleanField(true),
    /** /openapi.json and /docs describe the API and hold no data; set false to put them behind a token. */
    API_DOCS_PUBLIC: booleanField(true),

    CLICKHOUSE_URL: url,
    CLICKHOUSE_USER: z.string().min(1),
    CLICKHOUSE_PASSWORD: z.string().min(1),
    CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier'),
    CLICKHOUSE_TIMEOUT_MS: positiveInt(10_000, 600_000),

    TELEMETRY_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    TELEMETRY_DB_POOL_SIZE: positiveInt(10, 100),

    S3_ENDPOINT: url,
    S3_REGION: z.string().min(1),
    S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
    S3_ACCESS_KEY_ID: z.string().min(1),
    S3_SECRET_ACCESS_KEY: z.string().min(1),
    S3_TIMEOUT_MS: positiveInt(5_000, 120_000),

    KEYCLOAK_URL: url,
    KEYCLOAK_REALM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    /** Defaults to `${KEYCLOAK_URL}/realms/${KEYCLOAK_REALM}`; must equal the `iss` Keycloak writes. */
    KEYCLOAK_ISSUER: url.optional(),
    /** Defaults to the realm's certs endpoint. */
    KEYCLOAK_JWKS_URL: url.optional(),
    /** The `aud` every access token for this API must carry. */
    API_AUDIENCE: z.string().min(1).default('reports-api'),
    /** Clients (`azp`) allowed to call core: the BFF for people, the jobs service account. */
    ALLOWED_CLIENTS: csv('reports-bff,reports-jobs'),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(120).default(30),
    /** Least time between two JWKS refetches triggered by unknown key ids. */
    JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    JWKS_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    /** Realm roles that may read their own reports. */
    REPORT_READER_ROLES: csv('prothetic_user,administrator'),
    ADMIN_ROLE: z.string().min(1).default('administrator'),
    /** Realm role of service accounts (the jobs client): may invalidate cached reports and scrape metrics. */
    SERVICE_ROLE: z.string().min(1).default('reports_service'),

    CDN_URL: url,
    CDN_SIGNING_KEY: secret,
    CDN_URL_TTL_SECONDS: positiveInt(300, 86_400),
    CDN_PURGE_TIMEOUT_MS: positiveInt(3_000, 60_000),

    DEVICE_SECRET_KEY: secret,
    TELEMETRY_MAX_BODY_BYTES: positiveInt(1_048_576, 64 * 1_048_576),
    TELEMETRY_MAX_EVENTS: positiveInt(5_000, 100_000),
    /** A signed request older or newer than this is refused as a possible replay. */
    TELEMETRY_REPLAY_WINDOW_SECONDS: positiveInt(300, 3_600),
    /** How far an event's own time may lie ahead of the server clock. */
    TELEMETRY_MAX_FUTURE_SKEW_SECONDS: positiveInt(300, 86_400),
    /** Events older than this are refused (the ETL would no longer pick their hours up). */
    TELEMETRY_MAX_AGE_DAYS: positiveInt(30, 3_650),

    KAFKA_BROKERS: csv('127.0.0.1:9092'),
    KAFKA_CONNECT_URL: url,
    CDC_CONSUMER_GROUP: z.string().min(1).default('reports-cdc'),
    CDC_TOPICS: csv('crm.crm.customers,crm.crm.prosthesis_models,crm.crm.prostheses,crm.crm.orders'),
    /** Per-dependency timeout of readiness and CDC health probes. */
    HEALTH_TIMEOUT_MS: positiveInt(2_000, 30_000),
  })
  .transform((config) => {
    const realmUrl = `${config.KEYCLOAK_URL.replace(/\/$/, '')}/realms/${config.KEYCLOAK_REALM}`;
    return {
      ...config,
      KEYCLOAK_ISSUER: config.KEYCLOAK_ISSUER ?? realmUrl,
      KEYCLOAK_JWKS_URL: config.KEYCLOAK_JWKS_URL ?? `${realmUrl}/protocol/openid-connect/certs`,
      CDN_URL: config.CDN_URL.replace(/\/$/, ''),
    };
  });
export type CoreConfig = z.output<typeof CoreConfigSchema>;

export function loadCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseConfig('core', CoreConfigSchema, env);
}
