import type postgres from 'postgres';
import type { EtlScope } from './scope.ts';
import type { Instant } from './watermark.ts';

/** Which raw rows name the hours to recompute. */
export type TouchedBy =
  /** Incremental: rows that arrived in [from, to), whatever their event time (late events included). */
  | { kind: 'received'; from: Instant; to: Instant }
  /** Backfill: rows whose event time is in [from, to). */
  | { kind: 'event_time'; from: Date; to: Date };

/**
 * One (chip, UTC hour), aggregated over every raw row of that hour, not only the new ones; or, in
 * an hour a reassignment cut (owner-spans.ts), over the rows of one owner's part of it.
 */
export interface HourlyAggregate {
  chipId: string;
  hourSeconds: number;
  /** Start of the part aggregated, ms: the hour's start unless a reassignment cut the hour. */
  fromMs: number;
  eventCount: number;
  movements: number;
  successfulMovements: number;
  /** Σ response_time_ms × movements over events that timed movements: exact per-movement mean. */
  responseTimeSumMs: number;
  /** Σ movements of those events. */
  responseTimeCount: number;
  responseTimeMaxMs: number;
  responseTimeP95Ms: number;
  batteryMinPct: number;
  batteryMaxPct: number;
  batterySumPct: number;
  actuatorTempMaxC: number;
  actuatorTempSumC: number;
  errorsTotal: number;
  /** Every error code of the hour, one entry per event (counted into arrays by toMartRow). */
  errorCodes: string[];
  activeMinutes: number;
  chargingMinutes: number;
}

type Db = postgres.ReservedSql;

/**
 * UTC hours by date_bin from a UTC midnight: plain integer arithmetic, twice as fast over a window's
 * rows as date_trunc with a time zone, and the same hour for every event after the origin.
 */
export const HOUR_ORIGIN = '2000-01-01T00:00:00Z';

/**
 * Session settings of a run's connection. UTC: hours and minutes of the hour are UTC ones. No JIT:
 * compiling the aggregate took longer than running it (1.3 s of a 10 s query at 1M rows). No
 * memoize: every touched pair is probed once, so its cache never hits and only costs memory. The
 * touched set is built with a hash of the window's rows: room for it in memory.
 */
export async function prepareEtlSession(db: Db): Promise<void> {
  await db`set time zone 'UTC'`;
  await db`set jit = off`;
  await db`set enable_memoize = off`;
  await db`set work_mem = '64MB'`;
}

/** The connection goes back to the pool: leave it as it was (time zone aside, which is harmless). */
export async function resetEtlSession(db: Db): Promise<void> {
  await db`reset jit`;
  await db`reset enable_memoize`;
  await db`reset work_mem`;
}

/**
 * Collects the (chip, hour) pairs to recompute into a session temp table, so the set never passes
 * through this process however large the window. Returns how many pairs there are.
 */
export async function collectTouchedHours(db: Db, scope: EtlScope, touched: TouchedBy): Promise<number> {
  const raw = db(`${scope.telemetrySchema}.raw_telemetry`);
  const chips = scope.chipIds ? db`and chip_id = any(${db.array([...scope.chipIds])}::text[])` : db``;
  const window =
    touched.kind === 'received'
      ? db`received_at >= ${touched.from}::timestamptz and received_at < ${touched.to}::timestamptz`
      : db`event_time >= ${touched.from.toISOString()}::timestamptz and event_time < ${touched.to.toISOString()}::timestamptz`;
  await resetTouchedHours(db);
  const inserted = await db`insert into etl_touched (chip_id, hour, seg_from, seg_to)
    select chip_id, hour, hour, hour + interval '1 hour' from (
      select distinct chip_id, date_bin('1 hour', event_time, ${HOUR_ORIGIN}::timestamptz) as hour from ${raw} where ${window} ${chips}) touched`;
  // Fresh statistics, so the planner sizes the join to the window (a few hours or a whole backfill).
  await db`analyze etl_touched`;
  return inserted.count;
}

/**
 * Creates the session's empty touched set (a run with an empty window still recomputes the
 * deferred hours it adds to it, see deferred-hours.ts). Each (chip, hour) is one segment
 * [seg_from, seg_to) covering the hour, or several that tile it when a reassignment cuts it
 * (cutTouchedHours). Segments must stay distinct and must not overlap: the aggregate joins them
 * to raw_telemetry, so a row covered twice would be counted twice.
 */
export async function resetTouchedHours(db: Db): Promise<void> {
  // The key keeps the segments distinct and lets the aggregate walk them in (chip, hour, seg_from)
  // order: the raw rows come out of the primary-key index already grouped, so nothing is sorted.
  await db`create temp table if not exists etl_touched (chip_id text not null, hour timestamptz not null, seg_from timestamptz not null, seg_to timestamptz not null, primary key (chip_id, hour, seg_from))`;
  await db`truncate etl_touched`;
}

/** The touched hours' span in ms ([first hour's start, last hour's end)), or null when none are. */
export async function touchedSpan(db: Db): Promise<{ fromMs: number; toMs: number } | null> {
  const [row] = await db<{ from_ms: string | null; to_ms: string | null }[]>`
    select (extract(epoch from min(hour)) * 1000)::bigint as from_ms, (extract(epoch from max(hour) + interval '1 hour') * 1000)::bigint as to_ms from etl_touched`;
  return row?.from_ms == null || row.to_ms == null ? null : { fromMs: Number(row.from_ms), toMs: Number(row.to_ms) };
}

/**
 * Cuts the touched segment holding each instant in two there (the owner changes at that instant,
 * owner-spans.ts). A cut in an hour that is not touched, or on a segment's edge, changes nothing.
 * One statement per cut: cuts are few (reassignments inside the run's hours). Returns how many
 * segments were cut.
 */
export async function cutTouchedHours(db: Db, cuts: readonly { chipId: string; atMs: number }[]): Promise<number> {
  let count = 0;
  for (const cut of cuts) {
    const at = new Date(cut.atMs).toISOString();
    const cutOff = await db`
      with old as (
        select chip_id, hour, seg_from, seg_to from etl_touched
        where chip_id = ${cut.chipId} and seg_from < ${at}::timestamptz and seg_to > ${at}::timestamptz),
      shortened as (
        update etl_touched t set seg_to = ${at}::timestamptz from old
        where t.chip_id = old.chip_id and t.hour = old.hour and t.seg_from = old.seg_from
        returning old.chip_id, old.hour, old.seg_to)
      insert into etl_touched (chip_id, hour, seg_from, seg_to) select chip_id, hour, ${at}::timestamptz, seg_to from shortened`;
    count += cutOff.count;
  }
  return count;
}

interface AggregateRow {
  chip_id: string;
  hour_s: string;
  from_ms: string;
  event_count: number;
  movements: string;
  successful_movements: string;
  response_time_sum_ms: string;
  response_time_count: string;
  response_time_max_ms: number;
  response_times_ms: number[] | null;
  battery_min_pct: number;
  battery_max_pct: number;
  battery_sum_pct: string;
  actuator_temp_max_c: number;
  actuator_temp_sum_c: number;
  errors_total: number;
  error_codes: string[] | null;
  active_minutes: number;
  charging_minutes: number;
}

/**
 * PostgreSQL's percentile_disc(0.95) (nearest rank: the value at row ceil(0.95 · n) of the sorted
 * values, the same float arithmetic), computed here from the hour's values: an ordered-set
 * aggregate makes PostgreSQL sort every hour's rows on its own, which cost more than the rest of
 * the aggregate together (EXPLAIN ANALYZE in docs/jobs.md). 0 when nothing was timed.
 */
export function percentileDisc95(values: readonly number[] | null): number {
  if (!values || values.length === 0) return 0;
  const sorted = Int32Array.from(values).sort();
  const row = Math.ceil(0.95 * sorted.length);
  return sorted[Math.max(1, row) - 1]!;
}

function toAggregate(row: AggregateRow): HourlyAggregate {
  return {
    chipId: row.chip_id,
    hourSeconds: Number(row.hour_s),
    fromMs: Number(row.from_ms),
    eventCount: row.event_count,
    movements: Number(row.movements),
    successfulMovements: Number(row.successful_movements),
    responseTimeSumMs: Number(row.response_time_sum_ms),
    responseTimeCount: Number(row.response_time_count),
    responseTimeMaxMs: row.response_time_max_ms,
    responseTimeP95Ms: percentileDisc95(row.response_times_ms),
    batteryMinPct: row.battery_min_pct,
    batteryMaxPct: row.battery_max_pct,
    batterySumPct: Number(row.battery_sum_pct),
    actuatorTempMaxC: row.actuator_temp_max_c,
    actuatorTempSumC: row.actuator_temp_sum_c,
    errorsTotal: row.errors_total,
    errorCodes: row.error_codes ?? [],
    activeMinutes: row.active_minutes,
    chargingMinutes: row.charging_minutes,
  };
}

/**
 * Streams the full aggregates of the touched hours from raw_telemetry through a cursor, `cursorRows`
 * at a time: memory stays flat however many hours the window touched. "Timed" events are those
 * with a response time and at least one movement (a NULL means nothing was timed).
 *
 * Every aggregate is a plain one, so PostgreSQL streams the groups off the index-ordered join
 * without a sort: distinct minutes are a 60-bit mask per hour (bit_or of 1 << minute, then
 * bit_count; the rows of one UTC hour have distinct minutes of the hour exactly when they have
 * distinct minutes), the 95th percentile is taken here from the hour's values.
 */
export async function* streamHourlyAggregates(db: Db, scope: EtlScope, cursorRows: number): AsyncGenerator<HourlyAggregate[]> {
  const cursor = hourlyAggregateQuery(db, scope).cursor(cursorRows);
  for await (const rows of cursor) yield rows.map(toAggregate);
}

/** The aggregate over the session's touched hours (the benchmark times it alone, as its anchor). */
export function hourlyAggregateQuery(db: Db, scope: EtlScope) {
  const raw = db(`${scope.telemetrySchema}.raw_telemetry`);
  return db<AggregateRow[]>`
    select t.chip_id,
           extract(epoch from t.hour)::bigint as hour_s,
           (extract(epoch from t.seg_from) * 1000)::bigint as from_ms,
           count(*)::int as event_count,
           sum(r.movements)::bigint as movements,
           sum(r.successful_movements)::bigint as successful_movements,
           coalesce(sum(r.response_time_ms::bigint * r.movements) filter (where r.response_time_ms is not null and r.movements > 0), 0)::bigint as response_time_sum_ms,
           coalesce(sum(r.movements) filter (where r.response_time_ms is not null and r.movements > 0), 0)::bigint as response_time_count,
           coalesce(max(r.response_time_ms) filter (where r.movements > 0), 0)::int as response_time_max_ms,
           array_agg(r.response_time_ms) filter (where r.response_time_ms is not null and r.movements > 0) as response_times_ms,
           min(r.battery_pct)::int as battery_min_pct,
           max(r.battery_pct)::int as battery_max_pct,
           sum(r.battery_pct)::bigint as battery_sum_pct,
           max(r.actuator_temp_c)::float8 as actuator_temp_max_c,
           sum(r.actuator_temp_c)::float8 as actuator_temp_sum_c,
           count(r.error_code)::int as errors_total,
           array_agg(r.error_code) filter (where r.error_code is not null) as error_codes,
           bit_count(coalesce(bit_or(1::bigint << date_part('minute', r.event_time)::int) filter (where r.movements > 0), 0)::bit(64))::int as active_minutes,
           bit_count(coalesce(bit_or(1::bigint << date_part('minute', r.event_time)::int) filter (where r.charging), 0)::bit(64))::int as charging_minutes
    from etl_touched t
    join ${raw} r on r.chip_id = t.chip_id and r.event_time >= t.seg_from and r.event_time < t.seg_to
    group by t.chip_id, t.hour, t.seg_from`;
}

/**
 * The distinct touched hours of these chips, `pageSize` (chip, hour) pairs at a time in (chip, hour)
 * order (keyset pages off etl_touched's primary key), so a caller can walk every hour of a whole
 * retention rebuild without holding them all. Run on the connection that holds `etl_touched`, with
 * no cursor open on it.
 */
export async function* pageTouchedHoursOf(db: Db, chipIds: readonly string[], pageSize: number): AsyncGenerator<Array<{ chipId: string; hourSeconds: number }>> {
  if (chipIds.length === 0) return;
  let after: { chip: string; hour: string } = { chip: '', hour: '-infinity' };
  for (;;) {
    const rows = await db<{ chip_id: string; hour: string; hour_s: string }[]>`
      select distinct chip_id, hour::text as hour, extract(epoch from hour)::bigint as hour_s from etl_touched
      where chip_id = any(${db.array([...chipIds])}::text[]) and (chip_id, hour) > (${after.chip}, ${after.hour}::text::timestamptz)
      order by chip_id, hour limit ${pageSize}`;
    if (rows.length === 0) return;
    yield rows.map((row) => ({ chipId: row.chip_id, hourSeconds: Number(row.hour_s) }));
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { chip: last.chip_id, hour: last.hour };
  }
}

export async function dropTouchedHours(db: Db): Promise<void> {
  await db`drop table if exists pg_temp.etl_touched`;
}
