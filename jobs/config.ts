import { Cron } from 'croner';
import { z } from 'zod';
import { accessTokenFields, resolveRealmUrls } from '../common/auth/access-token-config.ts';
import { parseConfig } from '../common/config.ts';
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
  secretField,
} from '../common/config-fields.ts';
import { KAFKA_SASL_MECHANISMS, type KafkaClientSettings } from './cdc/kafka-client.ts';

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

    TELEMETRY_DATABASE_URL: postgresUrlField,
    TELEMETRY_DB_POOL_SIZE: intField(4, 1, 50),

    ...clickHouseFields,
    CLICKHOUSE_TIMEOUT_MS: intField(120_000, 1, 3_600_000),

    /** The in-process scheduler (ETL and retention); several replicas may run it, one acts per run. */
    SCHEDULER_ENABLED: booleanField(true),
    /** Croner pattern, UTC. */
    ETL_SCHEDULE: cronPattern('*/15 * * * *'),
    /** Mart rows per ClickHouse insert. */
    ETL_BATCH_ROWS: intField(5_000, 1, 200_000),
    /** Aggregated rows fetched per cursor round trip from the telemetry database. */
    ETL_CURSOR_ROWS: intField(2_000, 1, 100_000),
    /** The incremental window stops this far below now() (see jobs/etl/watermark.ts#readIngestBound). */
    ETL_SETTLE_SECONDS: intField(5, 0, 3_600),

    RETENTION_SCHEDULE: cronPattern('30 3 * * *'),
    /** Raw telemetry months wholly older than this are dropped. */
    RAW_TELEMETRY_RETENTION_DAYS: intField(90, 1, 36_500),
    /** Report mart months wholly older than this are dropped. */
    MART_RETENTION_DAYS: intField(730, 1, 36_500),
    /**
     * The oldest event core still accepts (its TELEMETRY_MAX_AGE_DAYS). Raw telemetry must outlive
     * it: a late event recomputes its whole hour from raw rows, which must still be there.
     */
    LATE_EVENT_MAX_AGE_DAYS: intField(30, 1, 3_650),

    /** The CRM change-event consumer (Debezium topics → ClickHouse CDC tables). */
    CDC_ENABLED: booleanField(true),
    KAFKA_BROKERS: csvField('127.0.0.1:9092'),
    /**
     * Jobs' own Kafka principal (SASL/SCRAM; the broker refuses unauthenticated clients). Its ACLs
     * allow reading the CDC topics, its consumer groups (prefix `reports-cdc`) and writing the DLQ,
     * nothing else: see docs/stack-services.md, "Kafka".
     */
    KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS).default('scram-sha-512'),
    KAFKA_JOBS_USER: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a Kafka user name (letters, digits, . _ -)').default('jobs'),
    /** Required only with CDC_ENABLED: nothing else in jobs talks to Kafka. */
    KAFKA_JOBS_PASSWORD: secretField.optional(),
    CDC_CONSUMER_GROUP: z.string().min(1).default('reports-cdc'),
    CDC_DLQ_TOPIC: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/).default('crm.dlq'),
    /** Topic prefix of the Debezium connector: topics are `<prefix>.crm.<table>`. */
    CDC_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('crm'),

    /** Keycloak realm, token audience and the clients (`azp`) whose tokens jobs accepts. */
    ...accessTokenFields,
    ADMIN_ROLE: z.string().min(1).default('administrator'),
    /** Service accounts with this realm role may read /metrics and /runs (not trigger runs). */
    SERVICE_ROLE: z.string().min(1).default('reports_service'),

    /** After a load, cached reports of the affected users are dropped through core. */
    INVALIDATION_ENABLED: booleanField(true),
    CORE_URL: httpUrlField,
    JOBS_CLIENT_ID: z.string().min(1).default('reports-jobs'),
    JOBS_CLIENT_SECRET: secretField,
    INVALIDATION_TIMEOUT_MS: intField(10_000, 1, 120_000),
    /** Users per invalidate request (core accepts up to 10 000). */
    INVALIDATION_BATCH_USERS: intField(1_000, 1, 10_000),
    /** Above this many affected users one `{all:true}` replaces the per-user requests. */
    INVALIDATION_ALL_ABOVE_USERS: intField(20_000, 1, 10_000_000),

    /** Per-dependency timeout of readiness and CDC health probes. */
    HEALTH_TIMEOUT_MS: intField(2_000, 1, 30_000),
  })
  .superRefine((config, ctx) => {
    if (config.CDC_ENABLED && config.KAFKA_JOBS_PASSWORD === undefined) {
      ctx.addIssue({ code: 'custom', path: ['KAFKA_JOBS_PASSWORD'], message: 'is required while CDC_ENABLED=true (the consumer signs in to Kafka with it)' });
    }
    if (config.RAW_TELEMETRY_RETENTION_DAYS <= config.LATE_EVENT_MAX_AGE_DAYS + 31) {
      ctx.addIssue({
        code: 'custom',
        path: ['RAW_TELEMETRY_RETENTION_DAYS'],
        message: `must exceed LATE_EVENT_MAX_AGE_DAYS + 31 (${config.LATE_EVENT_MAX_AGE_DAYS + 31}): late events recompute their hour from raw rows`,
      });
    }
  })
  .transform((config) => {
    const realm = resolveRealmUrls(config);
    return {
      ...config,
      KEYCLOAK_ISSUER: realm.issuer,
      KEYCLOAK_JWKS_URL: realm.jwksUrl,
      KEYCLOAK_TOKEN_URL: `${realm.realmUrl}/protocol/openid-connect/token`,
      CORE_URL: config.CORE_URL.replace(/\/$/, ''),
      /** Undefined when CDC is off (no password needed then). */
      KAFKA: (config.CDC_ENABLED && config.KAFKA_JOBS_PASSWORD !== undefined
        ? { brokers: config.KAFKA_BROKERS, sasl: { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_JOBS_USER, password: config.KAFKA_JOBS_PASSWORD } }
        : undefined) satisfies KafkaClientSettings | undefined,
    };
  });
export type JobsConfig = z.output<typeof JobsConfigSchema>;

export function loadJobsConfig(env: Record<string, string | undefined>): JobsConfig {
  return parseConfig('jobs', JobsConfigSchema, env);
}
