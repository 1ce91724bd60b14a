/**
 * Which monthly partitions retention may drop. A partition goes only when all of it is older than
 * the horizon (its upper bound is at or before the cutoff), so no row younger than the horizon is
 * ever dropped.
 */

const DAY_MS = 86_400_000;

export function retentionCutoff(nowMs: number, days: number): Date {
  if (!Number.isInteger(days) || days < 1) throw new Error(`retention days must be a positive integer, got ${days}`);
  return new Date(nowMs - days * DAY_MS);
}

/** ClickHouse `toYYYYMM(hour)` partitions ('202401') whose month ended at or before the cutoff. */
export function martPartitionsToDrop(partitions: readonly string[], cutoff: Date): string[] {
  return partitions
    .filter((partition) => {
      const match = /^(\d{4})(\d{2})$/.exec(partition);
      if (!match) return false;
      const monthEnd = Date.UTC(Number(match[1]), Number(match[2]), 1);
      return monthEnd <= cutoff.getTime();
    })
    .sort();
}

export interface PgPartition {
  name: string;
  /** pg_get_expr(relpartbound) as PostgreSQL prints it in a UTC session. */
  bound: string;
}

/** "FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')" → the TO instant. */
export function partitionUpperBound(bound: string): Date | undefined {
  const match = /TO \('(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?'\)/.exec(bound);
  if (!match) return undefined;
  const iso = `${match[1]}T${match[2]}${match[3]}:${match[4] ?? '00'}`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** Range partitions of raw_telemetry wholly before the cutoff; the DEFAULT partition never is. */
export function rawPartitionsToDrop(partitions: readonly PgPartition[], cutoff: Date): string[] {
  return partitions
    .filter((partition) => {
      const upper = partitionUpperBound(partition.bound);
      return upper !== undefined && upper.getTime() <= cutoff.getTime();
    })
    .map((partition) => partition.name)
    .sort();
}
