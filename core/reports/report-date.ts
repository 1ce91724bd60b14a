import { ApiError, ErrorCode } from '../../common/http/errors.ts';

/**
 * Which days a daily report may be asked for. Every day outside this range is empty by
 * construction, and each distinct date is a distinct cache key and ClickHouse query: without a
 * range, one person could walk ClickHouse through every day from 1970 to 2105 (the calendar check
 * in keys.ts#parseReportDate allows all of them).
 */

/**
 * No prosthesis could have sent telemetry before this day (the platform's first devices shipped
 * after it), so no mart row, and no report, exists for an earlier day.
 */
export const FIRST_REPORT_DATE = '2020-01-01';
/** A person east of UTC is already in tomorrow's UTC day; anything later cannot have data yet. */
export const MAX_DAYS_AHEAD = 1;

const DAY_MS = 86_400_000;
const FIRST_REPORT_DAY_MS = Date.parse(FIRST_REPORT_DATE);

/** The latest day accepted at `nowMs`: today (UTC) plus MAX_DAYS_AHEAD, as YYYY-MM-DD. */
export function lastReportDate(nowMs: number): string {
  return new Date(Math.floor(nowMs / DAY_MS) * DAY_MS + MAX_DAYS_AHEAD * DAY_MS).toISOString().slice(0, 10);
}

/** A calendar day (already checked by parseReportDate) outside the range is a 400 naming the range. */
export function assertReportDateInRange(day: { date: string; dayStartMs: number }, nowMs: number): void {
  const latest = lastReportDate(nowMs);
  if (day.dayStartMs >= FIRST_REPORT_DAY_MS && day.date <= latest) return;
  throw new ApiError({
    code: ErrorCode.bad_request,
    message: `No report can exist for ${day.date}: reports cover ${FIRST_REPORT_DATE} (first possible telemetry) to ${latest} (today UTC + ${MAX_DAYS_AHEAD} day)`,
    details: { param: 'date', earliest: FIRST_REPORT_DATE, latest },
  });
}
