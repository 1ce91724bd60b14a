import { z } from 'zod';
import { accessTokenFields, resolveRealmUrls } from '../common/auth/access-token-config.ts';
import { parseConfig } from '../common/config.ts';
import { describeOwnerRefKeyProblem } from '../common/identity/owner-ref.ts';
import {
  booleanField,
  clickHouseFields,
  csvField,
  hostField,
  httpUrlField,
  intField,
  logLevelField,
  portField,
  postgresUrlField,
  s3BucketField,
  secretField,
} from '../common/config-fields.ts';

export const CoreConfigSchema = z
  .object({
    PORT: portField(8001),
    HOST: hostField,
    LOG_LEVEL: logLevelField,
    /** Core sits behind the edge, which mints request ids; accept them so one id spans both logs. */
    TRUST_REQUEST_ID: booleanField(true),
    /** /openapi.json and /docs describe the API and hold no data; set false to put them behind a token. */
    API_DOCS_PUBLIC: booleanField(false),

    ...clickHouseFields,
    CLICKHOUSE_TIMEOUT_MS: intField(10_000, 1, 600_000),

    TELEMETRY_DATABASE_URL: postgresUrlField,
    TELEMETRY_DB_POOL_SIZE: intField(10, 1, 100),
    /** The CRM database of the operator API (core/crm); unset, its routes answer 503 naming crm. */
    CRM_CORE_DATABASE_URL: postgresUrlField.optional(),
    CRM_DB_POOL_SIZE: intField(5, 1, 100),

    S3_ENDPOINT: httpUrlField,
    S3_REGION: z.string().min(1),
    S3_BUCKET: s3BucketField,
    S3_ACCESS_KEY_ID: z.string().min(1),
    S3_SECRET_ACCESS_KEY: z.string().min(1),
    S3_TIMEOUT_MS: intField(5_000, 1, 120_000),

    /** Keycloak realm, token audience and the clients (`azp`) allowed to call core. */
    ...accessTokenFields,
    /** Realm roles that may read their own reports. */
    REPORT_READER_ROLES: csvField('prothetic_user,administrator'),
    ADMIN_ROLE: z.string().min(1).default('administrator'),
    /** Realm role of service accounts (the jobs client): may invalidate cached reports and scrape metrics. */
    SERVICE_ROLE: z.string().min(1).default('reports_service'),

    /**
     * Per-user cache versions shared by the replicas (core/reports/report-versions.ts). Without it
     * the in-process memory level is off and every read goes to S3, as no replica could learn of
     * another's invalidation.
     */
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
    REDIS_TIMEOUT_MS: intField(500, 1, 30_000),
    /** How a replica learns of invalidations: pub/sub (no round trip on warm reads) or one Redis read per request. */
    REPORT_VERSION_CHECK: z.enum(['pubsub', 'per-request']).default('pubsub'),
    /** Report text kept in each process's memory, in MiB (0 turns the memory level off). */
    REPORT_MEMORY_CACHE_MB: intField(32, 0, 4_096),

    CDN_URL: httpUrlField,
    CDN_SIGNING_KEY: secretField,
    CDN_URL_TTL_SECONDS: intField(300, 1, 86_400),
    CDN_PURGE_TIMEOUT_MS: intField(3_000, 1, 60_000),

    /**
     * Key of the pseudonymous report owner ids (common/identity/owner-ref.ts): base64url of 32+ random
     * bytes. Core is the only service that holds it (besides it only the demo generator, a tool run by
     * hand); changing it orphans every mart row and cached report.
     */
    OWNER_REF_KEY: z.string().superRefine((value, ctx) => {
      const problem = describeOwnerRefKeyProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),

    DEVICE_SECRET_KEY: secretField,
    TELEMETRY_MAX_BODY_BYTES: intField(1_048_576, 1, 64 * 1_048_576),
    TELEMETRY_MAX_EVENTS: intField(5_000, 1, 100_000),
    /** A signed request older or newer than this is refused as a possible replay. */
    TELEMETRY_REPLAY_WINDOW_SECONDS: intField(300, 1, 3_600),
    /** How far an event's own time may lie ahead of the server clock. */
    TELEMETRY_MAX_FUTURE_SKEW_SECONDS: intField(300, 1, 86_400),
    /** Events older than this are refused (the ETL would no longer pick their hours up). */
    TELEMETRY_MAX_AGE_DAYS: intField(30, 1, 3_650),

    /** Per-dependency timeout of readiness and CDC health probes. */
    HEALTH_TIMEOUT_MS: intField(2_000, 1, 30_000),
  })
  .transform((config) => {
    const realm = resolveRealmUrls(config);
    return {
      ...config,
      KEYCLOAK_ISSUER: realm.issuer,
      KEYCLOAK_JWKS_URL: realm.jwksUrl,
      CDN_URL: config.CDN_URL.replace(/\/$/, ''),
    };
  });
export type CoreConfig = z.output<typeof CoreConfigSchema>;

export function loadCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseConfig('core', CoreConfigSchema, env);
}
