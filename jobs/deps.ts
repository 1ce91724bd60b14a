import type { ClickHouseClient } from '@clickhouse/client';
import postgres from 'postgres';
import { reconnectBackoffSeconds } from '../common/postgres-backoff.ts';
import { createAccessTokenVerifierFromConfig } from '../common/auth/access-token-config.ts';
import type { AccessTokenVerifier } from '../common/auth/verify-access-token.ts';
import type { Probe } from '../common/http/health-ready.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { createClickHouseClient, defaultTransport, type ClickHouseTransport } from '../db/clickhouse/client.ts';
import type { CdcStatus } from './cdc/cdc-status.ts';
import { createGroupLagReader, type GroupLagReader } from './cdc/group-lag.ts';
import { cdcTopics } from './cdc/tables.ts';
import type { JobsConfig } from './config.ts';
import { DEFAULT_ETL_SETTINGS, type EtlSettings } from './etl/run-etl.ts';
import { defaultScope, type EtlScope } from './etl/scope.ts';
import { createClientCredentialsTokenSource } from './invalidation/client-credentials.ts';
import { createCoreInvalidator } from './invalidation/core-invalidator.ts';
import { disabledInvalidator, type Invalidator } from './invalidation/invalidator.ts';
import { createJobsMetrics, type JobsMetrics } from './metrics/jobs-metrics.ts';
import type { RetentionSettings } from './retention/run-retention.ts';
import { createActiveRuns, type ActiveRuns } from './runs/active-runs.ts';
import { createClickHouseRunHistory, type RunHistory } from './runs/run-history.ts';
import type { Scheduler } from './schedule/scheduler.ts';

/** Parts started after the app (scheduler, CDC consumer); routes read them, the runtime sets them. */
export interface RuntimeState {
  scheduler?: Scheduler;
  cdc?: CdcStatus;
}

/** What the jobs service's handlers, schedulers and CLI use, built once at start. */
export interface JobsDeps {
  config: JobsConfig;
  logger: Logger;
  now: () => number;
  /** Run ids and other ids the service makes up. */
  newId: () => string;
  metrics: JobsMetrics;
  telemetryDb: postgres.Sql;
  /** On CLICKHOUSE_DATABASE: the mart, the CRM replica and the run log. */
  clickhouse: ClickHouseClient;
  verifier: AccessTokenVerifier;
  invalidator: Invalidator;
  runHistory: RunHistory;
  activeRuns: ActiveRuns;
  etlScope: EtlScope;
  etlSettings: EtlSettings;
  retentionSettings: RetentionSettings;
  groupLag: GroupLagReader;
  readinessProbes: Record<string, Probe>;
  runtime: RuntimeState;
  close(): Promise<void>;
}

export interface DepsOverrides {
  logger?: Logger;
  now?: () => number;
  newId?: () => string;
  verifier?: AccessTokenVerifier;
  invalidator?: Invalidator;
  /** `node` under Node, `fetch` under Bun (see db/clickhouse/client.ts); defaults by runtime. */
  clickhouseTransport?: ClickHouseTransport;
}

/** Builds the real clients from config; nothing connects until first used. */
export function buildJobsDeps(config: JobsConfig, overrides: DepsOverrides = {}): JobsDeps {
  const logger = overrides.logger ?? createLogger({ service: 'jobs', level: config.LOG_LEVEL });
  const now = overrides.now ?? Date.now;
  const metrics = createJobsMetrics();
  const telemetryDb = postgres(config.TELEMETRY_DATABASE_URL, {
    max: config.TELEMETRY_DB_POOL_SIZE,
    connect_timeout: 10,
    backoff: reconnectBackoffSeconds,
    idle_timeout: 60,
    onnotice: () => undefined,
    connection: { application_name: 'reports-jobs', TimeZone: 'UTC' },
  });
  const clickhouse = createClickHouseClient(
    {
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      requestTimeoutMs: config.CLICKHOUSE_TIMEOUT_MS,
      application: 'reports-jobs',
    },
    overrides.clickhouseTransport ?? defaultTransport(),
  );
  const verifier = overrides.verifier ?? createAccessTokenVerifierFromConfig(config, { timeoutMs: config.HEALTH_TIMEOUT_MS });
  const invalidator =
    overrides.invalidator ??
    (config.INVALIDATION_ENABLED
      ? createCoreInvalidator({
          coreUrl: config.CORE_URL,
          tokens: createClientCredentialsTokenSource({
            tokenUrl: config.KEYCLOAK_TOKEN_URL,
            clientId: config.JOBS_CLIENT_ID,
            clientSecret: config.JOBS_CLIENT_SECRET,
            timeoutMs: config.INVALIDATION_TIMEOUT_MS,
            now,
          }),
          timeoutMs: config.INVALIDATION_TIMEOUT_MS,
          batchUsers: config.INVALIDATION_BATCH_USERS,
          allAboveUsers: config.INVALIDATION_ALL_ABOVE_USERS,
          logger,
          metrics,
        })
      : disabledInvalidator);
  const runtime: RuntimeState = {};
  return {
    config,
    logger,
    now,
    newId: overrides.newId ?? (() => crypto.randomUUID()),
    metrics,
    telemetryDb,
    clickhouse,
    verifier,
    invalidator,
    runHistory: createClickHouseRunHistory(clickhouse),
    activeRuns: createActiveRuns(),
    etlScope: defaultScope,
    etlSettings: { ...DEFAULT_ETL_SETTINGS, batchRows: config.ETL_BATCH_ROWS, cursorRows: config.ETL_CURSOR_ROWS, settleSeconds: config.ETL_SETTLE_SECONDS },
    retentionSettings: {
      rawTelemetryDays: config.RAW_TELEMETRY_RETENTION_DAYS,
      martDays: config.MART_RETENTION_DAYS,
      telemetrySchema: defaultScope.telemetrySchema,
      clickhouseDatabase: config.CLICKHOUSE_DATABASE,
    },
    // Read only while CDC is on (/health/cdc answers `disabled` otherwise), and only then is Kafka configured.
    groupLag: config.KAFKA
      ? createGroupLagReader({
          clientId: 'reports-jobs-health',
          kafka: config.KAFKA,
          groupId: config.CDC_CONSUMER_GROUP,
          topics: cdcTopics(config.CDC_TOPIC_PREFIX),
          timeoutMs: config.HEALTH_TIMEOUT_MS,
          offsetsTimeoutMs: config.HEALTH_TIMEOUT_MS * 3,
        })
      : async () => {
          throw new Error('CDC is disabled (CDC_ENABLED=false): no Kafka to ask');
        },
    readinessProbes: {
      telemetry_db: async () => {
        await telemetryDb`select 1`;
      },
      clickhouse: async () => {
        const result = await clickhouse.query({ query: 'SELECT 1', format: 'JSONEachRow' });
        await result.json();
      },
      ...(config.CDC_ENABLED
        ? {
            cdc_consumer: async () => {
              const state = runtime.cdc?.state ?? 'stopped';
              if (state !== 'running') throw new Error(`CDC consumer is ${state}${runtime.cdc?.lastError ? `: ${runtime.cdc.lastError}` : ''}`);
            },
          }
        : {}),
    },
    runtime,
    async close() {
      await Promise.allSettled([clickhouse.close(), telemetryDb.end({ timeout: 5 })]);
    },
  };
}
