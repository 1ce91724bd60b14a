const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
/** Ten years of days: anything longer is a typo, not a backfill. */
export const MAX_BACKFILL_DAYS = 3_660;

export function parseDay(value: string): Date | undefined {
  const match = ISO_DAY.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (year < 1970 || year > 2105) return undefined;
  return date;
}

export type BackfillRange = { ok: true; from: Date; to: Date; days: number } | { ok: false; error: string };

/** `--from 2026-11-01 --to 2026-11-03` covers three whole UTC days: [Nov 1 00:00, Nov 4 00:00). */
export function parseBackfillRange(from: string, to: string): BackfillRange {
  const start = parseDay(from);
  if (!start) return { ok: false, error: `from: "${from.slice(0, 20)}" is not a calendar day (YYYY-MM-DD)` };
  const last = parseDay(to);
  if (!last) return { ok: false, error: `to: "${to.slice(0, 20)}" is not a calendar day (YYYY-MM-DD)` };
  if (last.getTime() < start.getTime()) return { ok: false, error: `to (${to}) is before from (${from})` };
  const days = Math.round((last.getTime() - start.getTime()) / DAY_MS) + 1;
  if (days > MAX_BACKFILL_DAYS) return { ok: false, error: `range of ${days} days is longer than ${MAX_BACKFILL_DAYS}` };
  return { ok: true, from: start, to: new Date(last.getTime() + DAY_MS), days };
}
