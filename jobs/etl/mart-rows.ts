import { ownerOfAggregate, type ChipDimensions, type ChipOwner } from './dimensions.ts';
import type { HourlyAggregate } from './hourly-aggregates.ts';

/** A reports.report_hourly row in JSONEachRow form (DateTime as unix seconds). */
export interface MartRow {
  user_id: string;
  prosthesis_id: string;
  chip_id: string;
  model_name: string;
  region: string;
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
  _version: number;
}

/** Per-code counts as the mart's two parallel arrays, sorted by code so equal hours store equal rows. */
export function countErrorCodes(codes: readonly string[]): { codes: string[]; counts: number[] } {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  const sorted = [...counts.keys()].sort();
  return { codes: sorted, counts: sorted.map((code) => counts.get(code)!) };
}

/** The row of an aggregate (one hour, or the part of it one owner held) for its owner. */
export function toMartRow(aggregate: HourlyAggregate, dims: Pick<ChipDimensions, 'prosthesisId' | 'modelName'>, owner: Pick<ChipOwner, 'userId' | 'region'>, version: number): MartRow {
  const errors = countErrorCodes(aggregate.errorCodes);
  return {
    user_id: owner.userId,
    prosthesis_id: dims.prosthesisId,
    chip_id: aggregate.chipId,
    model_name: dims.modelName,
    region: owner.region,
    hour: aggregate.hourSeconds,
    event_count: aggregate.eventCount,
    movements: aggregate.movements,
    successful_movements: aggregate.successfulMovements,
    response_time_sum_ms: aggregate.responseTimeSumMs,
    response_time_count: aggregate.responseTimeCount,
    response_time_max_ms: aggregate.responseTimeMaxMs,
    response_time_p95_ms: aggregate.responseTimeP95Ms,
    battery_min_pct: aggregate.batteryMinPct,
    battery_max_pct: aggregate.batteryMaxPct,
    battery_sum_pct: aggregate.batterySumPct,
    actuator_temp_max_c: aggregate.actuatorTempMaxC,
    actuator_temp_sum_c: aggregate.actuatorTempSumC,
    errors_total: aggregate.errorsTotal,
    error_codes: errors.codes,
    error_counts: errors.counts,
    active_minutes: aggregate.activeMinutes,
    charging_minutes: aggregate.chargingMinutes,
    _version: version,
  };
}

/**
 * A row without events over an owner's row for an hour that is no longer (wholly) theirs: newer,
 * so it wins in ReplacingMergeTree and argMax; readers drop rows whose newest version has no events.
 */
export function zeroMartRow(key: { userId: string; prosthesisId: string; chipId: string; modelName: string; region: string; hourSeconds: number }, version: number): MartRow {
  return {
    user_id: key.userId,
    prosthesis_id: key.prosthesisId,
    chip_id: key.chipId,
    model_name: key.modelName,
    region: key.region,
    hour: key.hourSeconds,
    event_count: 0,
    movements: 0,
    successful_movements: 0,
    response_time_sum_ms: 0,
    response_time_count: 0,
    response_time_max_ms: 0,
    response_time_p95_ms: 0,
    battery_min_pct: 0,
    battery_max_pct: 0,
    battery_sum_pct: 0,
    actuator_temp_max_c: 0,
    actuator_temp_sum_c: 0,
    errors_total: 0,
    error_codes: [],
    error_counts: [],
    active_minutes: 0,
    charging_minutes: 0,
    _version: version,
  };
}

/** A (chip, UTC hour) the run could not load because the CRM replica does not know the chip. */
export interface DeferredHour {
  chipId: string;
  hourSeconds: number;
}

/**
 * Splits a batch of aggregates into mart rows (chips with an owner, each aggregate for the owner
 * at its start) and hours to defer (chips the replica does not know: `dimensionsOf` gives null or
 * undefined), with the raw rows they stand for. An hour cut by a reassignment comes as one
 * aggregate per part; a part deferred defers the hour (it is recomputed whole), listed once.
 */
export function toMartRows(
  aggregates: readonly HourlyAggregate[],
  dimensionsOf: (chipId: string) => ChipDimensions | null | undefined,
  version: number,
): { rows: MartRow[]; deferred: DeferredHour[]; deferredRawRows: number } {
  const rows: MartRow[] = [];
  const deferred: DeferredHour[] = [];
  const deferredKeys = new Set<string>();
  let deferredRawRows = 0;
  for (const aggregate of aggregates) {
    const dims = dimensionsOf(aggregate.chipId);
    if (dims) {
      rows.push(toMartRow(aggregate, dims, ownerOfAggregate(dims, aggregate), version));
    } else {
      const key = `${aggregate.chipId}@${aggregate.hourSeconds}`;
      if (!deferredKeys.has(key)) deferred.push({ chipId: aggregate.chipId, hourSeconds: aggregate.hourSeconds });
      deferredKeys.add(key);
      deferredRawRows += aggregate.eventCount;
    }
  }
  return { rows, deferred, deferredRawRows };
}
