import type { S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { reconnectBackoffSeconds } from '../common/postgres-backoff.ts';
import { createAccessTokenVerifierFromConfig } from '../common/auth/access-token-config.ts';
import type { AccessTokenVerifier } from '../common/auth/verify-access-token.ts';
import type { Probe } from '../common/http/health-ready.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { createS3Client } from '../common/s3/client.ts';
import type { ClickHouseTransport } from '../db/clickhouse/client.ts';
import { createChRows, createClickHouseQueryClient, type ChQueryClient, type ChRows } from './clickhouse-rows.ts';
import type { CoreConfig } from './config.ts';
import { createCdcInspector, type CdcInspector } from './health/cdc-inspector.ts';
import { jwksProbe } from '../common/http/probes.ts';
import { createCoreMetrics, type CoreMetrics } from './metrics/core-metrics.ts';
import { createCdnPurger, type CdnPurger } from './reports/cdn-purge.ts';
import { createClickHouseReportSource, type ReportSource } from './reports/clickhouse-source.ts';
import { createReportCache, type ReportCache } from './reports/report-cache.ts';
import { createReportOwners, type ReportOwners } from './reports/owners.ts';
import { createRedisReportVersions, noReportVersions, type ReportVersions } from './reports/report-versions.ts';
import { createS3ReportStore, type ReportObjectStore } from './reports/s3-store.ts';
import { rememberVerifiedTokens } from './verified-tokens.ts';
import { createCrmStore, type CrmStore } from './crm/store.ts';
import { createPgTelemetryStore, type TelemetryStore } from './telemetry/pg-store.ts';

/**
 * Everything core's handlers use, built once at start and passed in; handlers touch no globals.
 * Each capability is an interface so tests can point one at a broken endpoint.
 */
export interface CoreDeps {
  config: CoreConfig;
  logger: Logger;
  now: () => number;
  metrics: CoreMetrics;
  verifier: AccessTokenVerifier;
  reportSource: ReportSource;
  reportStore: ReportObjectStore;
  reportCache: ReportCache;
  /** Username → pseudonymous report owner ref, the reports' only owner key. */
  owners: ReportOwners;
  reportVersions: ReportVersions;
  cdnPurger: CdnPurger;
  telemetryStore: TelemetryStore;
  readinessProbes: Record<string, Probe>;
  cdc: CdcInspector;
  /** The operator API's CRM database (core/crm); undefined when CRM_CORE_DATABASE_URL is unset. */
  crm: CrmStore | undefined;
  /** Binder-built queries on the report database as core's read-only user (core/crm/replication.ts). */
  chRows: ChRows;
  /** Releases pools and sockets (graceful shutdown, tests). */
  close(): Promise<void>;
}

export interface CoreClients {
  clickhouse: ChQueryClient;
  s3: S3Client;
  telemetryDb: postgres.Sql;
}

/** Builds the real clients from config; nothing connects until first used. */
export interface CoreDepsOptions {
  logger?: Logger;
  now?: () => number;
  /** Chosen by the runtime entry file: `node` under Node, `fetch` under Bun (see db/clickhouse/client.ts). */
  clickhouseTransport?: ClickHouseTransport;
}

export function buildCoreDeps(config: CoreConfig, overrides: CoreDepsOptions = {}): CoreDeps {
  const logger = overrides.logger ?? createLogger({ service: 'core', level: config.LOG_LEVEL });
  const now = overrides.now ?? Date.now;
  const clients: CoreClients = {
    clickhouse: createClickHouseQueryClient({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      requestTimeoutMs: config.CLICKHOUSE_TIMEOUT_MS,
      application: 'reports-core',
    }, overrides.clickhouseTransport ?? 'node'),
    s3: createS3Client({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      timeoutMs: config.S3_TIMEOUT_MS,
    }),
    telemetryDb: postgres(config.TELEMETRY_DATABASE_URL, {
      max: config.TELEMETRY_DB_POOL_SIZE,
      connect_timeout: 5,
      backoff: reconnectBackoffSeconds,
      idle_timeout: 60,
      onnotice: () => undefined,
      connection: { application_name: 'reports-core' },
    }),
  };
  const crm = config.CRM_CORE_DATABASE_URL ? createCrmStore(config.CRM_CORE_DATABASE_URL, { poolSize: config.CRM_DB_POOL_SIZE }) : undefined;
  const metrics = createCoreMetrics();
  const verifier = rememberVerifiedTokens(createAccessTokenVerifierFromConfig(config, { timeoutMs: config.HEALTH_TIMEOUT_MS, now }), { now });
  const chRows = createChRows(clients.clickhouse, config.CLICKHOUSE_TIMEOUT_MS);
  const reportSource = createClickHouseReportSource(chRows, now);
  const reportStore = createS3ReportStore(clients.s3, config.S3_BUCKET);
  const reportVersions = config.REDIS_URL
    ? createRedisReportVersions({
        url: config.REDIS_URL,
        commandTimeoutMs: config.REDIS_TIMEOUT_MS,
        check: config.REPORT_VERSION_CHECK,
        onStateChange: (state) => logger[state === 'subscribed' ? 'info' : 'warn']('reports.versions', { state }),
      })
    : noReportVersions;
  const reportCache = createReportCache({
    store: reportStore,
    source: reportSource,
    versions: reportVersions,
    memoryBytes: config.REDIS_URL ? config.REPORT_MEMORY_CACHE_MB * 1_048_576 : 0,
    onOutcome: (kind, outcome) => metrics.reportCache.inc({ kind, outcome }),
    onWriteError: (key, error) => logger.warn('reports.store_failed', { key, error: error instanceof Error ? error.message : String(error) }),
  });
  return {
    config,
    logger,
    now,
    metrics,
    verifier,
    reportSource,
    reportStore,
    reportCache,
    owners: createReportOwners(config.OWNER_REF_KEY),
    reportVersions,
    cdnPurger: createCdnPurger({ cdnUrl: config.CDN_URL, signingKey: config.CDN_SIGNING_KEY, timeoutMs: config.CDN_PURGE_TIMEOUT_MS, now }),
    telemetryStore: createPgTelemetryStore(clients.telemetryDb),
    readinessProbes: {
      clickhouse: () => reportSource.ping(),
      s3: () => reportStore.ping(),
      jwks: jwksProbe(config.KEYCLOAK_JWKS_URL, config.HEALTH_TIMEOUT_MS),
    },
    cdc: createCdcInspector({ rows: chRows }),
    crm,
    chRows,
    async close() {
      await reportCache.flush();
      await Promise.allSettled([clients.clickhouse.close(), clients.telemetryDb.end({ timeout: 5 }), reportVersions.close(), crm?.close()]);
      clients.s3.destroy();
    },
  };
}
