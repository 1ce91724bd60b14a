import { chIdentifier, chSql } from '../../db/clickhouse/sql.ts';
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

/**
 * What core can tell about CDC from ClickHouse alone. Consumer lag and connector state are jobs'
 * business (jobs' /health/cdc reads the group's offsets); core stays free of Kafka clients.
 */
export interface CdcInspector {
  tables(): Promise<CdcTableState[]>;
}

export const CDC_TABLES = ['crm_customers', 'crm_prosthesis_models', 'crm_prostheses', 'crm_orders'] as const;

const isoOrNull = (seconds: unknown) => (num(seconds) > 0 ? isoHour(num(seconds)) : null);

export function createCdcInspector(options: { rows: ChRows }): CdcInspector {
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
  };
}
