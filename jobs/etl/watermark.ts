import type postgres from 'postgres';
import type { EtlScope } from './scope.ts';

/**
 * Instants are kept as PostgreSQL's own ISO text with microseconds (received_at has µs precision
 * and a JS Date only ms): a watermark truncated to ms would re-read rows, one rounded up would
 * skip them.
 */
export type Instant = string;

export const EPOCH: Instant = '1970-01-01T00:00:00.000000Z';


type Db = postgres.Sql | postgres.ReservedSql;

/** Everything received before the watermark has been loaded; null before the first run. */
export async function readWatermark(db: Db, scope: EtlScope): Promise<Instant | null> {
  const table = db(`${scope.telemetrySchema}.etl_watermarks`);
  const [row] = await db<{ watermark: string }[]>`
    select to_char(watermark at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as watermark
    from ${table} where source = ${scope.source}`;
  return row?.watermark ?? null;
}

/**
 * Moves the watermark from `expected` to `next`, only if nobody moved it meanwhile (compare and
 * set). Returns false when it had moved: the caller's work is still valid (loads are idempotent),
 * but it must not overwrite a newer position.
 */
export async function advanceWatermark(db: Db, scope: EtlScope, expected: Instant | null, next: Instant): Promise<boolean> {
  const table = db(`${scope.telemetrySchema}.etl_watermarks`);
  if (expected === null) {
    const rows = await db`insert into ${table} (source, watermark) values (${scope.source}, ${next}::timestamptz)
                          on conflict (source) do nothing returning source`;
    return rows.length === 1;
  }
  const rows = await db`update ${table} set watermark = ${next}::timestamptz, updated_at = now()
                        where source = ${scope.source} and watermark = ${expected}::timestamptz returning source`;
  return rows.length === 1;
}

/**
 * The newest received_at up to which every row is committed and visible. received_at defaults to
 * now(), the inserting transaction's start, so a transaction still open can commit rows stamped in
 * the past: the bound stays below the start of every open transaction that has written to
 * raw_telemetry (it holds RowExclusiveLock on the table, or the partition it wrote directly, until it
 * ends; only the telemetry role's
 * sessions show their start, and that role is who ingests). `settleSeconds` covers a transaction
 * that began but has not inserted yet.
 */
export async function readIngestBound(db: Db, scope: EtlScope, settleSeconds: number): Promise<Instant> {
  const raw = `${scope.telemetrySchema}.raw_telemetry`;
  const [row] = await db<{ bound: string }[]>`
    select to_char(least(
             now() - make_interval(secs => ${settleSeconds}),
             coalesce((select min(a.xact_start)
                       from pg_locks l join pg_stat_activity a on a.pid = l.pid
                       where l.locktype = 'relation' and l.mode = 'RowExclusiveLock' and l.pid <> pg_backend_pid()
                         and (l.relation = ${raw}::regclass
                              or l.relation in (select inhrelid from pg_inherits where inhparent = ${raw}::regclass))),
                      'infinity'::timestamptz)
           ) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as bound`;
  if (!row) throw new Error('ingest bound query returned nothing');
  return row.bound;
}

/** Whole-second Date at or before the instant (ClickHouse DateTime columns of the run log). */
export function instantToDate(instant: Instant): Date {
  return new Date(Math.floor(Date.parse(instant) / 1000) * 1000);
}
