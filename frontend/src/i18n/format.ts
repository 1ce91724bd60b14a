import type { Language } from './dictionary.ts';

/**
 * Number and date formatting for one language. Report days and hours are UTC calendar units
 * (that is how the mart aggregates them), so every date formatter pins timeZone: 'UTC' — a
 * person in Vladivostok must see the same "24 November" the report was computed for.
 */
export interface Formatters {
  integer(value: number): string;
  decimal(value: number, digits?: number): string;
  percent(value: number | null): string;
  milliseconds(value: number | null): string;
  minutes(value: number): string;
  /** "Tuesday, 24 November 2026" for a YYYY-MM-DD day. */
  dayLong(day: string): string;
  /** "24 Nov 2026". */
  dayShort(day: string): string;
  /** "Tue 24 Nov" (the year only when it is not this year's): compact, for lists. */
  dayInList(day: string): string;
  /** "21–24 Nov 2026": two days as one range. */
  dayRange(from: string, to: string): string;
  /** "13:00" for an ISO hour. */
  hour(isoHour: string): string;
  /** "24 Nov 2026, 13:05 UTC" for an ISO instant. */
  dateTime(iso: string): string;
  /** "24 Nov, 13:05" (UTC, said in the column header) for tables of recent instants. */
  dateTimeCompact(iso: string): string;
}

const DASH = '—';

/** Noon UTC of the day: no time zone or DST edge can move it to a neighbouring date. */
function dayToDate(day: string): Date {
  return new Date(`${day}T12:00:00Z`);
}

export function createFormatters(language: Language, now: () => Date = () => new Date()): Formatters {
  const locale = language === 'ru' ? 'ru-RU' : 'en-GB';
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimals = new Map<number, Intl.NumberFormat>();
  const decimal = (value: number, digits = 1) => {
    let format = decimals.get(digits);
    if (!format) {
      format = new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: digits });
      decimals.set(digits, format);
    }
    return format.format(value);
  };
  const dayLong = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const dayShort = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
  const dayInYear = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' });
  const dayWithYear = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const hour = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dateTimeCompact = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return {
    integer: (value) => integer.format(value),
    decimal,
    percent: (value) => (value === null ? DASH : `${decimal(value, 1)} %`),
    milliseconds: (value) => (value === null ? DASH : decimal(value, 0)),
    minutes: (value) => integer.format(value),
    dayLong: (day) => dayLong.format(dayToDate(day)),
    dayShort: (day) => dayShort.format(dayToDate(day)),
    dayInList: (day) => (day.slice(0, 4) === String(now().getUTCFullYear()) ? dayInYear : dayWithYear).format(dayToDate(day)),
    dayRange: (from, to) => (from === to ? dayShort.format(dayToDate(from)) : dayShort.formatRange(dayToDate(from), dayToDate(to))),
    hour: (iso) => hour.format(new Date(iso)),
    dateTime: (iso) => `${dateTime.format(new Date(iso))} UTC`,
    dateTimeCompact: (iso) => dateTimeCompact.format(new Date(iso)),
  };
}
