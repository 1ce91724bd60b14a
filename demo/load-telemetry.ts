/**
 * Streams generated telemetry into raw_telemetry, idempotently: each batch is COPYed into a session
 * temp table (no indexes, so COPY runs at full speed) and moved with INSERT … ON CONFLICT DO NOTHING,
 * so events already present — from an earlier run with the same seed — are skipped, not duplicated.
 * Memory stays bounded by one batch (the text of `batchRows` rows) whatever the total volume.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { daysCovering, generateChipDay, type TelemetryChip, type TelemetryRow } from './telemetry-data.ts';

export interface TelemetryLoadOptions {
  seed: number;
  eventsPerHour: number;
  chips: readonly TelemetryChip[];
  fromMs: number;
  toMs: number;
  /** Stop after this many rows (benchmark volumes). */
  maxRows?: number;
  batchRows?: number;
  onProgress?: (progress: TelemetryProgress) => void;
}

export interface TelemetryProgress {
  generated: number;
  inserted: number;
  elapsedMs: number;
}

export interface TelemetryLoadResult extends TelemetryProgress {
  /** Rows that were already there (same event identity). */
  skipped: number;
}

const COLUMNS = 'event_id, chip_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging';
const SAFE_CHIP_ID = /^[A-Za-z0-9_-]{4,64}$/;
const CHUNK_CHARS = 1 << 18;

/** One row in COPY text format. Every field is a number, a UUID, a safe chip id, a code or \N. */
export function copyLine(row: TelemetryRow): string {
  return `${row.eventId}\t${row.chipId}\t${new Date(row.eventTimeMs).toISOString()}\t${row.movements}\t${row.successfulMovements}\t${
    row.responseTimeMs ?? '\\N'
  }\t${row.batteryPct}\t${row.actuatorTempC}\t${row.errorCode ?? '\\N'}\t${row.charging ? 't' : 'f'}\n`;
}

export async function loadTelemetry(sql: postgres.Sql, options: TelemetryLoadOptions): Promise<TelemetryLoadResult> {
  const { chips, fromMs, toMs, batchRows = 100_000, onProgress } = options;
  for (const chip of chips) if (!SAFE_CHIP_ID.test(chip.chipId)) throw new Error(`unsafe chip id ${JSON.stringify(chip.chipId)}`);
  const limit = options.maxRows ?? Number.POSITIVE_INFINITY;
  const started = performance.now();
  let generated = 0;
  let inserted = 0;

  // Day by day, all chips of a day, then the next: the newest data lands last.
  function* chipDays(): Generator<[number, TelemetryChip]> {
    for (const day of daysCovering(fromMs, toMs)) for (const chip of chips) yield [day, chip];
  }
  const pending = chipDays();
  /** The COPY text of the next batch (whole chip-days, about batchRows rows). */
  const nextBatch = (): { chunks: string[]; rows: number } => {
    const chunks: string[] = [];
    let current = '';
    let rows = 0;
    const addRow = (row: TelemetryRow) => {
      if (generated >= limit) return;
      current += copyLine(row);
      if (current.length >= CHUNK_CHARS) {
        chunks.push(current);
        current = '';
      }
      generated++;
      rows++;
    };
    while (rows < batchRows && generated < limit) {
      const next = pending.next();
      if (next.done) break;
      generateChipDay(options, next.value[1], next.value[0], fromMs, toMs, addRow);
    }
    if (current !== '') chunks.push(current);
    return { chunks, rows };
  };

  const conn = await sql.reserve();
  try {
    await conn`select public.ensure_raw_telemetry_partitions(${new Date(fromMs)}, ${new Date(toMs)})`;
    await conn`create temp table if not exists raw_telemetry_stage (like public.raw_telemetry including defaults)`;
    await conn`truncate raw_telemetry_stage`;
    let batch = nextBatch();
    while (batch.rows > 0) {
      const copy = await conn.unsafe(`copy raw_telemetry_stage (${COLUMNS}) from stdin`).writable();
      await pipeline(Readable.from(batch.chunks), copy);
      // Index order makes the B-tree inserts local; the ON CONFLICT skips events already stored.
      const insert = conn.unsafe(
        `insert into public.raw_telemetry (${COLUMNS}) select ${COLUMNS} from raw_telemetry_stage order by chip_id, event_time on conflict do nothing`,
      ).execute();
      // Let the query reach the server, then build the next batch while PostgreSQL inserts this one.
      await new Promise((resolve) => setImmediate(resolve));
      const following = nextBatch();
      inserted += (await insert).count;
      await conn`truncate raw_telemetry_stage`;
      onProgress?.({ generated, inserted, elapsedMs: performance.now() - started });
      batch = following;
    }
  } finally {
    await conn`drop table if exists raw_telemetry_stage`.catch(() => {});
    conn.release();
  }
  const elapsedMs = performance.now() - started;
  return { generated, inserted, skipped: generated - inserted, elapsedMs };
}
