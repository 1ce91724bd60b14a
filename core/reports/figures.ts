/** Arithmetic shared by every report document, so one rule holds everywhere. */

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Successful / all × 100, clamped: a percentage never exceeds 100 even if the inputs disagree. */
export function successRatePct(successful: number, movements: number): number | null {
  if (movements <= 0) return null;
  return round2(Math.min(100, Math.max(0, (successful / movements) * 100)));
}

export function average(sum: number, count: number): number | null {
  return count > 0 ? round2(sum / count) : null;
}

export function averagePct(sum: number, count: number): number | null {
  const value = average(sum, count);
  return value === null ? null : Math.min(100, Math.max(0, value));
}

/** ClickHouse sends 64-bit integers as strings in JSON; every numeric column passes through here. */
export function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

export function isoHour(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
