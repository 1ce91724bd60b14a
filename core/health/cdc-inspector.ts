import type { Logger } from '../../common/log.ts';
import { chIdentifier, chSql } from '../../db/clickhouse/sql.ts';
import { createGroupLagReader, type TopicLag } from '../../jobs/cdc/group-lag.ts';
import type { ChRows } from '../clickhouse-rows.ts';
import { isoHour, num } from '../reports/figures.ts';

export interface CdcTableState {
  table: string;
  live_rows: number;
  deleted_rows: number;
  /** Newest source-side updated_at among the replicated rows. */
  last_source_change_at: string | null;
  /** When the consumer last applied a change to this table. */
  last_applied_at: string | null;
}

export interface ConnectorState {
  name: string;
  state: string;
  tasks: Array<{ id: number; state: string }>;
}

export interface CdcInspector {
  tables(): Promise<CdcTableState[]>;
  consumerLag(): Promise<TopicLag[]>;
  connectors(): Promise<ConnectorState[]>;
}

export const CDC_TABLES = ['crm_customers', 'crm_prosthesis_models', 'crm_prostheses', 'crm_orders'] as const;

const isoOrNull = (seconds: unknown) => (num(seconds) > 0 ? isoHour(num(seconds)) : null);

export function createCdcInspector(options: {
  rows: ChRows;
  brokers: string[];
  consumerGroup: string;
  topics: string[];
  connectUrl: string;
  timeoutMs: number;
  logger: Logger;
}): CdcInspector {
  // The consumer group is jobs' CDC consumer; its lag is read the way jobs' own health reads it.
  const readGroupLag = createGroupLagReader({
    clientId: 'reports-core-health',
    brokers: options.brokers,
    groupId: options.consumerGroup,
    topics: options.topics,
    timeoutMs: options.timeoutMs,
    clientLogger: options.logger,
  });

  return {
    async tables() {
      return Promise.all(
        CDC_TABLES.map(async (table) => {
          const [row] = await options.rows<Record<string, string | number>>(chSql`
            SELECT countIf(_deleted = 0) AS live_rows,
                   countIf(_deleted = 1) AS deleted_rows,
                   toUnixTimestamp(max(updated_at)) AS last_change,
                   toUnixTimestamp(max(_synced_at)) AS last_applied
            FROM ${chIdentifier(table)} FINAL`);
          return {
            table,
            live_rows: num(row?.live_rows),
            deleted_rows: num(row?.deleted_rows),
            last_source_change_at: isoOrNull(row?.last_change),
            last_applied_at: isoOrNull(row?.last_applied),
          };
        }),
      );
    },

    consumerLag: readGroupLag,

    async connectors() {
      const response = await fetch(`${options.connectUrl.replace(/\/$/, '')}/connectors?expand=status`, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!response.ok) throw new Error(`Kafka Connect answered ${response.status}`);
      const body = (await response.json()) as Record<string, { status?: { connector?: { state?: string }; tasks?: Array<{ id: number; state: string }> } }>;
      return Object.entries(body).map(([name, entry]) => ({
        name,
        state: entry.status?.connector?.state ?? 'UNKNOWN',
        tasks: (entry.status?.tasks ?? []).map((task) => ({ id: task.id, state: task.state })),
      }));
    },
  };
}
