import { createClickHouseClient, clickHouseConfigFromEnv, defaultTransport } from '../../../db/clickhouse/client.ts';
import { chSql, chTuple } from '../../../db/clickhouse/sql.ts';
import { createMemoryLogger } from '../../../common/log.ts';
import { createApp } from '../../../core/app.ts';
import { loadCoreConfig } from '../../../core/config.ts';
import { buildCoreDeps, type CoreDeps } from '../../../core/deps.ts';
import { loadStackEnv, type StackEnv } from '../../../stack/lib/env.ts';

/**
 * Core built in-process over the real stack (ClickHouse, S3, Keycloak, telemetry PostgreSQL) and
 * driven through app.request(). `envOverrides` lets a test point one dependency elsewhere (e.g.
 * ClickHouse at a closed port) without touching the shared servers.
 */
export function createCoreHarness(envOverrides: Partial<StackEnv> = {}, options: { now?: () => number } = {}) {
  const env: StackEnv = { ...loadStackEnv(), ...(envOverrides as StackEnv) };
  const config = loadCoreConfig({ ...env, LOG_LEVEL: 'debug' });
  const logger = createMemoryLogger('core');
  // Tests run under Bun: the same ClickHouse transport the Bun entry uses.
  const deps: CoreDeps = buildCoreDeps(config, { logger, now: options.now, clickhouseTransport: defaultTransport() });
  const app = createApp(deps);
  return {
    env,
    config,
    deps,
    app,
    logger,
    request(path: string, init: RequestInit & { token?: string } = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      return app.request(path, { ...init, headers });
    },
    close: () => deps.close(),
  };
}

export type CoreHarness = ReturnType<typeof createCoreHarness>;

export interface HourRow {
  user_id: string;
  hour: string;
  prosthesis_id?: string;
  chip_id?: string;
  model_name?: string;
  event_count?: number;
  movements?: number;
  successful_movements?: number;
  response_time_sum_ms?: number;
  response_time_count?: number;
  response_time_max_ms?: number;
  battery_min_pct?: number;
  battery_sum_pct?: number;
  errors_total?: number;
  error_codes?: string[];
  error_counts?: number[];
  active_minutes?: number;
  _version?: number;
}

/** Seeds mart rows directly (what the ETL would write) and removes them and cached objects after. */
export function createMartSeeder(env: StackEnv) {
  const client = createClickHouseClient(clickHouseConfigFromEnv(env));
  const users = new Set<string>();
  return {
    async insert(rows: HourRow[]) {
      for (const row of rows) users.add(row.user_id);
      await client.insert({
        table: 'report_hourly',
        format: 'JSONEachRow',
        values: rows.map((row) => ({
          prosthesis_id: '3c2d4e5f-0000-4000-8000-000000000001',
          chip_id: 'CHIP-TEST',
          model_name: 'BionicHand X2',
          region: 'ru',
          event_count: 10,
          movements: 100,
          successful_movements: 90,
          response_time_sum_ms: 1500,
          response_time_count: 10,
          response_time_max_ms: 300,
          response_time_p95_ms: 250,
          battery_min_pct: 40,
          battery_max_pct: 90,
          battery_sum_pct: 650,
          actuator_temp_max_c: 41,
          actuator_temp_sum_c: 380,
          errors_total: 0,
          error_codes: [],
          error_counts: [],
          active_minutes: 30,
          charging_minutes: 0,
          _version: 1,
          ...row,
        })),
      });
    },
    async cleanup() {
      if (users.size === 0) return client.close();
      // A mutation: asynchronous in ClickHouse, but every test uses users of its own.
      await client.command({ query: chSql`ALTER TABLE report_hourly DELETE WHERE user_id IN ${chTuple([...users])}`.text });
      await client.close();
    },
  };
}
