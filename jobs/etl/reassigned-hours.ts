import type { ClickHouseClient } from '@clickhouse/client';
import type postgres from 'postgres';
import { chSql, chTuple, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import { HOUR_ORIGIN } from './hourly-aggregates.ts';
import type { EtlScope } from './scope.ts';

/**
 * A reassignment replicated by CDC: from `validFromMs` on, the prosthesis's telemetry belongs to
 * another owner. Hours already loaded from that hour on were written for the previous owner.
 */
export interface AssignmentChange {
  prosthesisId: string;
  validFromMs: number;
}

/** The lookup, exported so tests can run the exact SQL on a current engine (chdb). */
export const reassignedChipsQuery = (prosthesisIds: readonly string[]): ChFragment =>
  chSql`SELECT toString(id) AS id, cur_chip_id AS chip_id FROM (
          SELECT id, argMax(chip_id, _version) AS cur_chip_id, argMax(_deleted, _version) AS cur_deleted
          FROM crm_prostheses WHERE id IN ${chTuple(prosthesisIds.map(chUuid))} GROUP BY id)
        WHERE cur_deleted = 0`;

/**
 * Puts every hour with raw telemetry of the reassigned prostheses' chips, from the hour holding
 * `validFromMs` on, into etl_deferred_hours: the next incremental ETL run requeues them like any
 * deferred hour whose chip is known, recomputes them from raw telemetry with the owner at each
 * event's time, and retires the rows it had written for the previous owner (run-etl.ts). Hours
 * already waiting get last_tried_at = now(): a run under way may have looked their owners up before
 * this assignment arrived, and must not clear them as loaded (clearLoadedDeferredHours). Only hours with events are queued, so a reassignment backdated
 * by a year costs its hours, not 8,760 empty ones. Returns how many were queued.
 *
 * Called by the CDC consumer after the assignment reached ClickHouse and before its offset is
 * committed, so a crash in between queues the hours again on redelivery.
 */
export async function queueReassignedHours(db: postgres.Sql, scope: EtlScope, clickhouse: ClickHouseClient, changes: readonly AssignmentChange[]): Promise<number> {
  if (changes.length === 0) return 0;
  const earliest = new Map<string, number>();
  for (const change of changes) earliest.set(change.prosthesisId, Math.min(change.validFromMs, earliest.get(change.prosthesisId) ?? Infinity));
  const result = await clickhouse.query({ query: reassignedChipsQuery([...earliest.keys()]).text, format: 'JSONEachRow' });
  const chips = (await result.json<{ id: string; chip_id: string }>()).filter((row) => !scope.chipIds || scope.chipIds.includes(row.chip_id));
  // A prosthesis the replica does not know yet has no loaded hours under anyone: nothing to move.
  if (chips.length === 0) return 0;
  const raw = db(`${scope.telemetrySchema}.raw_telemetry`);
  const deferred = db(`${scope.telemetrySchema}.etl_deferred_hours`);
  const queued = await db`
    insert into ${deferred} (source, chip_id, hour)
    select distinct ${scope.source}, r.chip_id, date_bin('1 hour', r.event_time, ${HOUR_ORIGIN}::timestamptz)
    from unnest(${db.array(chips.map((c) => c.chip_id))}::text[], ${db.array(chips.map((c) => new Date(earliest.get(c.id)!).toISOString()))}::timestamptz[]) as u(chip_id, valid_from)
    join ${raw} r on r.chip_id = u.chip_id and r.event_time >= date_bin('1 hour', u.valid_from, ${HOUR_ORIGIN}::timestamptz)
    on conflict (source, chip_id, hour) do update set last_tried_at = now()`;
  return queued.count;
}
