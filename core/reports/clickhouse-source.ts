import { chDateTime, chSql } from '../../db/clickhouse/sql.ts';
import type { ChRows } from '../clickhouse-rows.ts';
import type { DailyReport, DayTotals, HourPoint, ProsthesisRef, ReportDay, ReportList, ReportSummary } from './documents.ts';
import { average, averagePct, isoHour, num, successRatePct } from './figures.ts';

/** Computes report documents from the mart; `null` means there is no data for that day. */
export interface ReportSource {
  dailyReport(userId: string, date: string, dayStartMs: number): Promise<DailyReport | null>;
  reportList(userId: string): Promise<ReportList>;
  summary(userId: string): Promise<ReportSummary>;
  ping(): Promise<void>;
}

/** Ten years of days: the list document stays bounded even if retention is switched off. */
const MAX_LIST_DAYS = 3660;
const DAY_MS = 86_400_000;

/*
 * Aliases never reuse a column name: ClickHouse resolves a name to the alias first, so
 * `sum(movements) AS movements` would turn a later `movements` into a nested aggregate.
 * Every query reads `report_hourly FINAL`: the ETL re-inserts an hour with a higher _version when
 * it re-runs, and FINAL keeps only the newest row per (user_id, hour, prosthesis_id), so re-runs
 * never inflate a figure. Rows without events carry no information and are skipped. Successful
 * movements are capped by movements per row, so one inconsistent hour cannot lift a longer
 * period's success rate either.
 */
const AGGREGATES = chSql`sum(event_count) AS events,
  sum(movements) AS mov,
  sum(least(successful_movements, movements)) AS successful,
  sum(response_time_sum_ms) AS rt_sum,
  sum(response_time_count) AS rt_count,
  max(response_time_max_ms) AS rt_max,
  min(battery_min_pct) AS battery_min,
  sum(battery_sum_pct) AS battery_sum,
  sum(errors_total) AS errors,
  sum(active_minutes) AS active_min,
  sum(charging_minutes) AS charging_min`;

interface AggregateRow {
  events: string | number;
  mov: string | number;
  successful: string | number;
  rt_sum: string | number;
  rt_count: string | number;
  rt_max: string | number;
  battery_min: string | number;
  battery_sum: string | number;
  errors: string | number;
  active_min: string | number;
  charging_min: string | number;
}

function totalsOf(row: AggregateRow): DayTotals {
  const events = num(row.events);
  const movements = num(row.mov);
  const successful = Math.min(num(row.successful), movements);
  const rtCount = num(row.rt_count);
  return {
    events,
    movements,
    successful_movements: successful,
    success_rate_pct: successRatePct(successful, movements),
    avg_response_time_ms: average(num(row.rt_sum), rtCount),
    max_response_time_ms: rtCount > 0 ? num(row.rt_max) : null,
    // Battery is reported by every event, so its sum divides by the event count.
    avg_battery_pct: averagePct(num(row.battery_sum), events),
    min_battery_pct: events > 0 ? num(row.battery_min) : null,
    errors: num(row.errors),
    active_minutes: num(row.active_min),
    charging_minutes: num(row.charging_min),
  };
}

/** Merges per-hour aggregate rows into one (sums add, extremes fold). */
function mergeRows(rows: AggregateRow[]): AggregateRow {
  const sum = (key: keyof AggregateRow) => rows.reduce((acc, row) => acc + num(row[key]), 0);
  const withEvents = rows.filter((row) => num(row.events) > 0);
  return {
    events: sum('events'),
    mov: sum('mov'),
    successful: sum('successful'),
    rt_sum: sum('rt_sum'),
    rt_count: sum('rt_count'),
    rt_max: rows.reduce((acc, row) => Math.max(acc, num(row.rt_count) > 0 ? num(row.rt_max) : 0), 0),
    battery_min: withEvents.length ? Math.min(...withEvents.map((row) => num(row.battery_min))) : 0,
    battery_sum: sum('battery_sum'),
    errors: sum('errors'),
    active_min: sum('active_min'),
    charging_min: sum('charging_min'),
  };
}

function emptyHour(startSeconds: number): HourPoint {
  return {
    hour: isoHour(startSeconds),
    events: 0,
    movements: 0,
    successful_movements: 0,
    success_rate_pct: null,
    avg_response_time_ms: null,
    avg_battery_pct: null,
    min_battery_pct: null,
    errors: 0,
    active_minutes: 0,
  };
}

export function createClickHouseReportSource(rows: ChRows, now: () => number): ReportSource {
  async function prostheses(userId: string, range?: { from: number; to: number }): Promise<ProsthesisRef[]> {
    const within = range ? chSql`AND hour >= ${chDateTime(new Date(range.from))} AND hour < ${chDateTime(new Date(range.to))}` : chSql``;
    const found = await rows<{ prosthesis_id: string; chip_id: string; model_name: string }>(chSql`
      SELECT toString(prosthesis_id) AS prosthesis_id, argMax(chip_id, hour) AS chip_id, argMax(model_name, hour) AS model_name
      FROM report_hourly FINAL
      WHERE user_id = ${userId} AND event_count > 0 ${within}
      GROUP BY prosthesis_id
      ORDER BY prosthesis_id`);
    return found;
  }

  return {
    async ping() {
      await rows(chSql`SELECT 1 AS ok`);
    },

    async dailyReport(userId, date, dayStartMs) {
      const range = { from: dayStartMs, to: dayStartMs + DAY_MS };
      const where = chSql`user_id = ${userId} AND event_count > 0 AND hour >= ${chDateTime(new Date(range.from))} AND hour < ${chDateTime(new Date(range.to))}`;
      const [hourRows, errorRows, devices] = await Promise.all([
        rows<AggregateRow & { ts: string | number }>(chSql`
          SELECT toUnixTimestamp(hour) AS ts, ${AGGREGATES}
          FROM report_hourly FINAL WHERE ${where}
          GROUP BY hour ORDER BY hour`),
        // sumMap cannot key by String on 18.16; ARRAY JOIN of the parallel arrays can.
        rows<{ code: string; count: string | number }>(chSql`
          SELECT error_code AS code, sum(error_count) AS count
          FROM report_hourly FINAL
          ARRAY JOIN error_codes AS error_code, error_counts AS error_count
          WHERE ${where}
          GROUP BY error_code ORDER BY error_code`),
        prostheses(userId, range),
      ]);
      if (hourRows.length === 0) return null;
      const byHour = new Map(hourRows.map((row) => [num(row.ts), row]));
      const hours: HourPoint[] = [];
      for (let h = 0; h < 24; h++) {
        const start = range.from / 1000 + h * 3600;
        const row = byHour.get(start);
        if (!row) {
          hours.push(emptyHour(start));
          continue;
        }
        const t = totalsOf(row);
        hours.push({
          hour: isoHour(start),
          events: t.events,
          movements: t.movements,
          successful_movements: t.successful_movements,
          success_rate_pct: t.success_rate_pct,
          avg_response_time_ms: t.avg_response_time_ms,
          avg_battery_pct: t.avg_battery_pct,
          min_battery_pct: t.min_battery_pct,
          errors: t.errors,
          active_minutes: t.active_minutes,
        });
      }
      const errorsByCode: Record<string, number> = {};
      for (const { code, count } of errorRows) if (num(count) > 0) errorsByCode[code] = num(count);
      return {
        user_id: userId,
        date,
        generated_at: new Date(now()).toISOString(),
        prostheses: devices,
        totals: totalsOf(mergeRows(hourRows)),
        errors_by_code: errorsByCode,
        hours,
      };
    },

    async reportList(userId) {
      const dayRows = await rows<AggregateRow & { day: string }>(chSql`
        SELECT toString(toDate(hour)) AS day, ${AGGREGATES}
        FROM report_hourly FINAL
        WHERE user_id = ${userId} AND event_count > 0
        GROUP BY day ORDER BY day DESC
        LIMIT ${MAX_LIST_DAYS}`);
      const days: ReportDay[] = dayRows.map((row) => ({ date: row.day, ...totalsOf(row) }));
      return { user_id: userId, generated_at: new Date(now()).toISOString(), total_days: days.length, days };
    },

    async summary(userId) {
      const [totalsRows, devices] = await Promise.all([
        rows<AggregateRow & { active_days: string | number; first_ts: string | number; last_ts: string | number; latest_model: string }>(chSql`
          SELECT uniqExact(toDate(hour)) AS active_days,
                 toUnixTimestamp(min(hour)) AS first_ts,
                 toUnixTimestamp(max(hour)) AS last_ts,
                 argMax(model_name, hour) AS latest_model,
                 ${AGGREGATES}
          FROM report_hourly FINAL
          WHERE user_id = ${userId} AND event_count > 0`),
        prostheses(userId),
      ]);
      const row = totalsRows[0];
      const activeDays = row ? num(row.active_days) : 0;
      const t = row && activeDays > 0 ? totalsOf(row) : undefined;
      return {
        user_id: userId,
        generated_at: new Date(now()).toISOString(),
        active_days: activeDays,
        first_activity_at: t ? isoHour(num(row!.first_ts)) : null,
        last_activity_at: t ? isoHour(num(row!.last_ts)) : null,
        movements: t?.movements ?? 0,
        successful_movements: t?.successful_movements ?? 0,
        success_rate_pct: t?.success_rate_pct ?? null,
        avg_response_time_ms: t?.avg_response_time_ms ?? null,
        avg_battery_pct: t?.avg_battery_pct ?? null,
        errors: t?.errors ?? 0,
        errors_per_active_day: t && activeDays > 0 ? Math.round((t.errors / activeDays) * 100) / 100 : null,
        prosthesis_model: t ? row!.latest_model || null : null,
        prostheses: devices,
      };
    },
  };
}
