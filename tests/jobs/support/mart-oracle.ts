import type { ClickHouseClient } from '@clickhouse/client';
import type postgres from 'postgres';
import { chSql, chTuple } from '../../../db/clickhouse/sql.ts';

/** One mart hour as the tests compare it (numbers normalised, no version). */
export interface ExpectedHour {
  chip_id: string;
  hour: number;
  event_count: number;
  movements: number;
  successful_movements: number;
  response_time_sum_ms: number;
  response_time_count: number;
  response_time_max_ms: number;
  response_time_p95_ms: number;
  battery_min_pct: number;
  battery_max_pct: number;
  battery_sum_pct: number;
  actuator_temp_max_c: number;
  actuator_temp_sum_c: number;
  errors_total: number;
  error_codes: string[];
  error_counts: number[];
  active_minutes: number;
  charging_minutes: number;
}

/**
 * The expected mart computed straight from raw_telemetry in the telemetry database, written apart
 * from the ETL's query on purpose: hours by truncating the UTC wall-clock time, the 95th percentile
 * by row_number over sorted values (nearest rank), minutes pre-aggregated per minute, error counts
 * by their own GROUP BY.
 */
export async function oracleHours(sql: postgres.Sql, schema: string, chips: readonly string[]): Promise<ExpectedHour[]> {
  const raw = sql(`${schema}.raw_telemetry`);
  const rows = await sql<Record<string, unknown>[]>`
    with base as (
      select chip_id, date_trunc('hour', event_time at time zone 'UTC') as h, event_time at time zone 'UTC' as t,
             movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging
      from ${raw} where chip_id = any(${sql.array([...chips])}::text[])
    ),
    timed as (
      select chip_id, h, response_time_ms,
             row_number() over (partition by chip_id, h order by response_time_ms) as rn,
             count(*) over (partition by chip_id, h) as n
      from base where response_time_ms is not null and movements > 0
    ),
    p95 as (select chip_id, h, min(response_time_ms) as p95 from timed where rn >= ceil(0.95 * n) group by chip_id, h),
    errors as (
      select chip_id, h, array_agg(error_code order by error_code) as codes, array_agg(n order by error_code) as counts
      from (select chip_id, h, error_code, count(*)::int as n from base where error_code is not null group by chip_id, h, error_code) e
      group by chip_id, h
    ),
    minutes as (
      select chip_id, h, count(*) filter (where moved)::int as active, count(*) filter (where charged)::int as charging
      from (select chip_id, h, date_trunc('minute', t) as m, bool_or(movements > 0) as moved, bool_or(charging) as charged
            from base group by chip_id, h, date_trunc('minute', t)) per_minute
      group by chip_id, h
    ),
    totals as (
      select chip_id, h, count(*)::int as event_count, sum(movements)::bigint as movements, sum(successful_movements)::bigint as successful_movements,
             sum(case when response_time_ms is not null and movements > 0 then response_time_ms::bigint * movements else 0 end)::bigint as rt_sum,
             sum(case when response_time_ms is not null and movements > 0 then movements else 0 end)::bigint as rt_count,
             max(case when movements > 0 then response_time_ms end) as rt_max,
             min(battery_pct)::int as battery_min, max(battery_pct)::int as battery_max, sum(battery_pct)::bigint as battery_sum,
             max(actuator_temp_c)::text as temp_max, sum(actuator_temp_c)::text as temp_sum,
             count(error_code)::int as errors_total
      from base group by chip_id, h
    )
    select totals.*, extract(epoch from totals.h)::bigint as hour_s, p95.p95, errors.codes, errors.counts, minutes.active, minutes.charging
    from totals
    left join p95 using (chip_id, h)
    left join errors using (chip_id, h)
    left join minutes using (chip_id, h)
    order by chip_id, h`;
  return rows.map((r) => ({
    chip_id: String(r.chip_id),
    hour: Number(r.hour_s),
    event_count: Number(r.event_count),
    movements: Number(r.movements),
    successful_movements: Number(r.successful_movements),
    response_time_sum_ms: Number(r.rt_sum),
    response_time_count: Number(r.rt_count),
    response_time_max_ms: Number(r.rt_max ?? 0),
    response_time_p95_ms: Number(r.p95 ?? 0),
    battery_min_pct: Number(r.battery_min),
    battery_max_pct: Number(r.battery_max),
    battery_sum_pct: Number(r.battery_sum),
    actuator_temp_max_c: Number(r.temp_max),
    actuator_temp_sum_c: Number(r.temp_sum),
    errors_total: Number(r.errors_total),
    error_codes: (r.codes as string[] | null) ?? [],
    error_counts: ((r.counts as number[] | null) ?? []).map(Number),
    active_minutes: Math.min(60, Number(r.active ?? 0)),
    charging_minutes: Math.min(60, Number(r.charging ?? 0)),
  }));
}

export interface MartHour extends ExpectedHour {
  user_id: string;
  prosthesis_id: string;
  model_name: string;
  region: string;
  _version: number;
}

/** The mart as readers see it (FINAL: newest version per key), for the chips. */
export async function martHours(client: ClickHouseClient, chips: readonly string[]): Promise<MartHour[]> {
  const result = await client.query({
    query: chSql`SELECT user_id, prosthesis_id, chip_id, model_name, region, toUnixTimestamp(hour) AS hour, event_count, movements, successful_movements,
                        response_time_sum_ms, response_time_count, response_time_max_ms, response_time_p95_ms, battery_min_pct, battery_max_pct,
                        battery_sum_pct, actuator_temp_max_c, actuator_temp_sum_c, errors_total, error_codes, error_counts, active_minutes,
                        charging_minutes, _version
                 FROM report_hourly FINAL WHERE chip_id IN ${chTuple([...chips])} ORDER BY chip_id, hour`.text,
    format: 'JSONEachRow',
  });
  const rows = await result.json<Record<string, unknown>>();
  return rows.map((r) => ({
    user_id: String(r.user_id),
    prosthesis_id: String(r.prosthesis_id),
    model_name: String(r.model_name),
    region: String(r.region),
    chip_id: String(r.chip_id),
    hour: Number(r.hour),
    event_count: Number(r.event_count),
    movements: Number(r.movements),
    successful_movements: Number(r.successful_movements),
    response_time_sum_ms: Number(r.response_time_sum_ms),
    response_time_count: Number(r.response_time_count),
    response_time_max_ms: Number(r.response_time_max_ms),
    response_time_p95_ms: Number(r.response_time_p95_ms),
    battery_min_pct: Number(r.battery_min_pct),
    battery_max_pct: Number(r.battery_max_pct),
    battery_sum_pct: Number(r.battery_sum_pct),
    actuator_temp_max_c: Number(r.actuator_temp_max_c),
    actuator_temp_sum_c: Number(r.actuator_temp_sum_c),
    errors_total: Number(r.errors_total),
    error_codes: r.error_codes as string[],
    error_counts: (r.error_counts as unknown[]).map(Number),
    active_minutes: Number(r.active_minutes),
    charging_minutes: Number(r.charging_minutes),
    _version: Number(r._version),
  }));
}

/** Mart values without the columns only the mart has, floats rounded as their column stores them. */
export function comparable(hours: readonly ExpectedHour[]): ExpectedHour[] {
  return hours.map((h) => ({
    chip_id: h.chip_id,
    hour: h.hour,
    event_count: h.event_count,
    movements: h.movements,
    successful_movements: h.successful_movements,
    response_time_sum_ms: h.response_time_sum_ms,
    response_time_count: h.response_time_count,
    response_time_max_ms: h.response_time_max_ms,
    response_time_p95_ms: h.response_time_p95_ms,
    battery_min_pct: h.battery_min_pct,
    battery_max_pct: h.battery_max_pct,
    battery_sum_pct: h.battery_sum_pct,
    // Float32 keeps ~7 significant digits: compare at 2 decimals, as the source numeric(5,2) has.
    actuator_temp_max_c: Math.round(h.actuator_temp_max_c * 100) / 100,
    actuator_temp_sum_c: Math.round(h.actuator_temp_sum_c * 100) / 100,
    errors_total: h.errors_total,
    error_codes: h.error_codes,
    error_counts: h.error_counts,
    active_minutes: h.active_minutes,
    charging_minutes: h.charging_minutes,
  }));
}
