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

/**
 * A PostgreSQL array literal (`{a,"b c",NULL}`), sent as one text parameter and cast in SQL:
 * postgres.js infers an array parameter's type from its first element, which fails for booleans and
 * nulls. Strings are always quoted with `"` and `\\` escaped, so no value can break out of its element.
 */
export function arrayLiteral(values: readonly (string | number | boolean | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    if (value === null || value === undefined) out += 'NULL';
    else if (typeof value === 'string') out += `"${value.replace(/["\\]/g, '\\$&')}"`;
    else out += String(value);
  }
  return out + '}';
}

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
        // One statement per batch: each column travels as one array parameter and unnest turns
        // them back into rows, so the statement (prepared once per connection) stays the same
        // whatever the batch size; measured ~25 % faster in PostgreSQL than expanding one JSON
        // parameter with jsonb_to_recordset. A re-sent event hits the primary key
        // (chip_id, event_time, event_id) and is skipped.
        const n = events.length;
        const ids = new Array<string>(n);
        const times = new Array<number>(n);
        const movements = new Array<number>(n);
        const successful = new Array<number>(n);
        const responses = new Array<number | null>(n);
        const batteries = new Array<number>(n);
        const temperatures = new Array<number>(n);
        const errorCodes = new Array<string | null>(n);
        const charging = new Array<boolean>(n);
        for (let i = 0; i < n; i++) {
          const e = events[i]!;
          ids[i] = e.eventId;
          times[i] = e.eventTimeMs;
          movements[i] = e.movements;
          successful[i] = e.successfulMovements;
          responses[i] = e.responseTimeMs;
          batteries[i] = e.batteryPct;
          temperatures[i] = e.actuatorTempC;
          errorCodes[i] = e.errorCode;
          charging[i] = e.charging;
        }
        const inserted = await sql<{ event_id: string; event_ms: string }[]>`
          insert into public.raw_telemetry
            (event_id, chip_id, event_time, movements, successful_movements, response_time_ms,
             battery_pct, actuator_temp_c, error_code, charging)
          select e.event_id, ${chipId}, to_timestamp(e.event_ms / 1000.0), e.movements, e.successful,
                 e.response_ms, e.battery, e.temp, e.error_code, e.charging
          from unnest(${arrayLiteral(ids)}::uuid[], ${arrayLiteral(times)}::int8[], ${arrayLiteral(movements)}::int4[],
                      ${arrayLiteral(successful)}::int4[], ${arrayLiteral(responses)}::int4[], ${arrayLiteral(batteries)}::int2[],
                      ${arrayLiteral(temperatures)}::numeric[], ${arrayLiteral(errorCodes)}::text[], ${arrayLiteral(charging)}::bool[])
            as e(event_id, event_ms, movements, successful, response_ms, battery, temp, error_code, charging)
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
