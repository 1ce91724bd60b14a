const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar day as `YYYY-MM-DD` (what report URLs carry): 2024-02-29 yes, 2023-02-29 no. */
export function isReportDay(value: string): boolean {
  if (!DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** The days either side of `date` in a newest-first list. */
export function neighbours(days: readonly { date: string }[] | undefined, date: string): { previous?: string; next?: string } {
  if (!days) return {};
  const index = days.findIndex((d) => d.date === date);
  if (index === -1) return {};
  return { previous: days[index + 1]?.date, next: days[index - 1]?.date };
}
