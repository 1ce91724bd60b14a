import type { ReportKind } from './documents.ts';

/**
 * S3 keys of the cached report documents. The first segment is the owner's report owner ref
 * (core/reports/owners.ts, from the verified token), never the username: keys show in CDN URLs.
 */
export function reportKey(kind: ReportKind, userId: string, date?: string): string {
  switch (kind) {
    case 'list':
      return `${userId}/list/reports.json`;
    case 'summary':
      return `${userId}/summary/summary.json`;
    case 'daily':
      if (!date) throw new Error('a daily report key needs a date');
      return `${userId}/daily/${date}/report.json`;
  }
}

/** Everything cached for one user lives under this prefix. */
export function userPrefix(userId: string): string {
  return `${userId}/`;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real UTC calendar day in ClickHouse's Date range, or undefined. */
export function parseReportDate(value: string): { date: string; startMs: number } | undefined {
  const match = ISO_DAY.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const startMs = Date.UTC(year, month - 1, day);
  const check = new Date(startMs);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (year < 1970 || year > 2105) return undefined;
  return { date: value, startMs };
}
