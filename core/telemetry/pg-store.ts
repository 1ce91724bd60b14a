import type { Sql } from 'postgres';
import { isTransientNetworkError } from '../../common/transient-errors.ts';
import { DependencyUnavailable } from '../dependency.ts';
import { eventIdentity, type ValidEvent } from './events.ts';

export interface TelemetryStore {
  /** Inserts a batch in one statement; returns the identities actually inserted (the rest existed). */
  insertBatch(chipId: string, events: ValidEvent[]): Promise<Set<string>>;
  ping(): Promise<void>;
}

const MONTH_MS = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${d.getUTCMonth()}`;
};

export function createPgTelemetryStore(sql: Sql): TelemetryStore {
  // Months whose partition is known to exist; the function is idempotent, this only saves a call.
  const ensuredMonths = new Set<string>();

  async function ensurePartitions(events: ValidEvent[]): Promise<void> {
    const months = new Map<string, number>();
    for (const event of events) {
      const month = MONTH_MS(event.eventTimeMs);
      if (!ensuredMonths.has(month) && !months.has(month)) months.set(month, event.eventTimeMs);
    }
    if (months.size === 0) return;
    const times = [...months.values()];
    const from = new Date(Math.min(...times));
    const to = new Date(Math.max(...times));
    await sql`select public.ensure_raw_telemetry_partitions(${from}, ${to})`;
    for (const month of months.keys()) ensuredMonths.add(month);
  }

  return {
    async insertBatch(chipId, events) {
      if (events.length === 0) return new Set();
      try {
        await ensurePartitions(events);
        // One statement per batch: the events travel as one JSON parameter expanded server-side,
        // so the statement stays the same whatever the batch size. A re-sent event hits the
        // primary key (chip_id, event_time, event_id) and is skipped.
        const rows = events.map((e) => ({
          event_id: e.eventId,
          event_ms: e.eventTimeMs,
          movements: e.movements,
          successful: e.successfulMovements,
          response_ms: e.responseTimeMs,
          battery: e.batteryPct,
          temp: e.actuatorTempC,
          error_code: e.errorCode,
          charging: e.charging,
        }));
        const inserted = await sql<{ event_id: string; event_ms: string }[]>`
          insert into public.raw_telemetry
            (event_id, chip_id, event_time, movements, successful_movements, response_time_ms,
             battery_pct, actuator_temp_c, error_code, charging)
          select e.event_id, ${chipId}, to_timestamp(e.event_ms / 1000.0), e.movements, e.successful,
                 e.response_ms, e.battery, e.temp, e.error_code, e.charging
          from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as e(
            event_id uuid, event_ms bigint, movements int, successful int, response_ms int,
            battery smallint, temp numeric, error_code text, charging boolean)
          on conflict do nothing
          returning event_id::text, round(extract(epoch from event_time) * 1000)::bigint::text as event_ms`;
        return new Set(inserted.map((row) => eventIdentity({ eventId: row.event_id, eventTimeMs: Number(row.event_ms) })));
      } catch (error) {
        if (isTransientNetworkError(error)) throw new DependencyUnavailable('telemetry_db', error);
        throw error;
      }
    },

    async ping() {
      try {
        await sql`select 1`;
      } catch (error) {
        throw new DependencyUnavailable('telemetry_db', error);
      }
    },
  };
}
