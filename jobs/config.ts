import { Cron } from 'croner';
import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import { booleanField, hostField, logLevelField, portField } from '../common/config-fields.ts';

const url = z.url({ protocol: /^https?$/ });
const csv = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(1).max(max).default(fallback);

/** A croner pattern, checked by building (and discarding) the schedule. */
const cronPattern = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((value, ctx) => {
      try {
        new Cron(value, { paused: true, timezone: 'UTC' }).stop();
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a cron pattern: ${error instanceof Error ? error.message : String(error)}` });
      }
    });

export const JobsConfigSchema = z
  .object({
    PORT: portField(8081),
    HOST: hostField,
    LOG_LEVEL: logLevelField,
    TRUST_REQUEST_ID: booleanField(true),

    TELEMETRY_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    TELEMETRY_DB_POOL_SIZE: positiveInt(4, 50),

    CLICKHOUSE_URL: url,
    CLICKHOUSE_USER: z.string().min(1),
    CLICKHOUSE_PASSWORD: z.string().min(1),
    CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier'),
    CLICKHOUSE_TIMEOUT_MS: positiveInt(120_000, 3_600_000),

    /** The in-process scheduler (ETL and retention); several replicas may run it, one acts per run. */
    SCHEDULER_ENABLED: booleanField(true),
    /** Croner pattern, UTC. */
    ETL_SCHEDULE: cronPattern('*/15 * * * *'),
    /** Mart rows per ClickHouse insert. */
    ETL_BATCH_ROWS: positiveInt(5_000, 200_000),
    /** Aggregated rows fetched per cursor round trip from the telemetry database. */
    ETL_CURSOR_ROWS: positiveInt(2_000, 100_000),
    /** The incremental window stops this far below now() (see jobs/etl/watermark.ts#readIngestBound). */
    ETL_SETTLE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(5),

    RETENTION_SCHEDULE: cronPattern('30 3 * * *'),
    /** Raw telemetry months wholly older than this are dropped. */
    RAW_TELEMETRY_RETENTION_DAYS: positiveInt(90, 36_500),
    /** Report mart months wholly older than this are dropped. */
    MART_RETENTION_DAYS: positiveInt(730, 36_500),
    /**
     * The oldest event core still accepts (its TELEMETRY_MAX_AGE_DAYS). Raw telemetry must outlive
     * it: a late event recomputes its whole hour from raw rows, which must still be there.
     */
    LATE_EVENT_MAX_AGE_DAYS: positiveInt(30, 3_650),

    /** The CRM change-event consumer (Debezium topics → ClickHouse CDC tables). */
    CDC_ENABLED: booleanField(true),
    KAFKA_BROKERS: csv('127.0.0.1:9092'),
    CDC_CONSUMER_GROUP: z.string().min(1).default('reports-cdc'),
    CDC_DLQ_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/).default('crm.dlq'),
    /** Topic prefix of the Debezium connector: topics are `<prefix>.crm.<table>`. */
    CDC_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('crm'),

    KEYCLOAK_URL: url,
    KEYCLOAK_REALM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    KEYCLOAK_ISSUER: url.optional(),
    KEYCLOAK_JWKS_URL: url.optional(),
    /** The `aud` every access token for jobs' protected routes must carry. */
    API_AUDIENCE: z.string().min(1).default('reports-api'),
    /** Clients (`azp`) whose tokens jobs accepts: the BFF for administrators, the jobs service account. */
    ALLOWED_CLIENTS: csv('reports-bff,reports-jobs'),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(120).default(30),
    JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    JWKS_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    ADMIN_ROLE: z.string().min(1).default('administrator'),
    /** Service accounts with this realm role may read /metrics and /runs (not trigger runs). */
    SERVICE_ROLE: z.string().min(1).default('reports_service'),

    /** After a load, cached reports of the affected users are dropped through core. */
    INVALIDATION_ENABLED: booleanField(true),
    CORE_URL: url,
    JOBS_CLIENT_ID: z.string().min(1).default('reports-jobs'),
    JOBS_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters (a generated secret)'),
    INVALIDATION_TIMEOUT_MS: positiveInt(10_000, 120_000),
    /** Users per invalidate request (core accepts up to 10 000). */
    INVALIDATION_BATCH_USERS: positiveInt(1_000, 10_000),
    /** Above this many affected users one `{all:true}` replaces the per-user requests. */
    INVALIDATION_ALL_ABOVE_USERS: positiveInt(20_000, 10_000_000),

    /** Per-dependency timeout of readiness and CDC health probes. */
    HEALTH_TIMEOUT_MS: positiveInt(2_000, 30_000),
  })
  .superRefine((config, ctx) => {
    if (config.RAW_TELEMETRY_RETENTION_DAYS <= config.LATE_EVENT_MAX_AGE_DAYS + 31) {
      ctx.addIssue({
        code: 'custom',
        path: ['RAW_TELEMETRY_RETENTION_DAYS'],
        message: `must exceed LATE_EVENT_MAX_AGE_DAYS + 31 (${config.LATE_EVENT_MAX_AGE_DAYS + 31}): late events recompute their hour from raw rows`,
      });
    }
  })
  .transform((config) => {
    const realmUrl = `${config.KEYCLOAK_URL.replace(/\/$/, '')}/realms/${config.KEYCLOAK_REALM}`;
    return {
      ...config,
      KEYCLOAK_ISSUER: config.KEYCLOAK_ISSUER ?? realmUrl,
      KEYCLOAK_JWKS_URL: config.KEYCLOAK_JWKS_URL ?? `${realmUrl}/protocol/openid-connect/certs`,
      KEYCLOAK_TOKEN_URL: `${realmUrl}/protocol/openid-connect/token`,
      CORE_URL: config.CORE_URL.replace(/\/$/, ''),
    };
  });
export type JobsConfig = z.output<typeof JobsConfigSchema>;

export function loadJobsConfig(env: Record<string, string | undefined>): JobsConfig {
  return parseConfig('jobs', JobsConfigSchema, env);
}
