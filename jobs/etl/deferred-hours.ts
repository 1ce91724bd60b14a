import type postgres from 'postgres';
import type { DeferredHour } from './mart-rows.ts';
import type { EtlScope } from './scope.ts';

/**
 * Hours the ETL could not load because the CRM replica did not know the chip yet
 * (`etl_deferred_hours`, db/migrations/telemetry/003_etl_deferred_hours.sql). A run records them
 * before its watermark moves; the next incremental runs look their chips up again and put the
 * hours of chips the replica now knows into the touched set, so they are recomputed from raw
 * telemetry like any touched hour; the rows go once their hours are loaded and invalidated.
 */

type Db = postgres.Sql | postgres.ReservedSql;

/** Chips per dimension lookup when deferred hours are retried. */
export const DEFERRED_CHIPS_PER_LOOKUP = 1_000;

const table = (db: Db, schema: string) => db(`${schema}.etl_deferred_hours`);

const hourIso = (hourSeconds: number) => new Date(hourSeconds * 1000).toISOString();

/**
 * Records hours that could not be loaded, in one statement: new ones with attempts = 1, ones
 * already waiting get attempts + 1 and last_tried_at = now(). `hours` must be distinct (one
 * batch's aggregates are: one per touched pair). Durable when it returns (autocommit).
 */
export async function recordDeferredHours(db: Db, scope: EtlScope, hours: readonly DeferredHour[]): Promise<void> {
  if (hours.length === 0) return;
  const deferred = table(db, scope.telemetrySchema);
  await db`
    insert into ${deferred} as d (source, chip_id, hour)
    select ${scope.source}, u.chip_id, u.hour
    from unnest(${db.array(hours.map((h) => h.chipId))}::text[], ${db.array(hours.map((h) => hourIso(h.hourSeconds)))}::timestamptz[]) as u(chip_id, hour)
    on conflict (source, chip_id, hour) do update set last_tried_at = now(), attempts = d.attempts + 1`;
}

export interface DeferredRetry {
  /** Deferred hours of chips the replica now knows, added to the touched set. */
  requeuedHours: number;
  /** Deferred hours of chips still unknown (attempts bumped), not counting any also touched now. */
  stillDeferredHours: number;
}

/**
 * Takes the deferred hours of the scope (its chips only, when it names some): their chips are
 * looked up `chipsPerLookup` at a time through `knownChips`; the hours of known chips go into the
 * session's `etl_touched` (those already there are skipped, the set stays distinct), the others get
 * attempts + 1 unless they are in the touched set anyway (the batch that meets them records the
 * attempt). Only chip ids pass through this process, never the hours. Run on the connection that
 * holds `etl_touched`, with no cursor open on it.
 */
export async function requeueDeferredHours(
  db: postgres.ReservedSql,
  scope: EtlScope,
  knownChips: (chipIds: string[]) => Promise<Set<string>>,
  chipsPerLookup = DEFERRED_CHIPS_PER_LOOKUP,
): Promise<DeferredRetry> {
  const deferred = table(db, scope.telemetrySchema);
  const onlyChips = scope.chipIds ? db`and chip_id = any(${db.array([...scope.chipIds])}::text[])` : db``;
  const retry: DeferredRetry = { requeuedHours: 0, stillDeferredHours: 0 };
  let after = '';
  for (;;) {
    const page = await db<{ chip_id: string }[]>`
      select distinct chip_id from ${deferred}
      where source = ${scope.source} and chip_id > ${after} ${onlyChips}
      order by chip_id limit ${chipsPerLookup}`;
    const chips = page.map((row) => row.chip_id);
    if (chips.length === 0) break;
    after = chips[chips.length - 1]!;
    const known = await knownChips(chips);
    const resolved = chips.filter((chip) => known.has(chip));
    const unresolved = chips.filter((chip) => !known.has(chip));
    if (resolved.length > 0) {
      const queued = await db`
        insert into etl_touched (chip_id, hour, seg_from, seg_to)
        select d.chip_id, d.hour, d.hour, d.hour + interval '1 hour' from ${deferred} d
        where d.source = ${scope.source} and d.chip_id = any(${db.array(resolved)}::text[])
          and not exists (select 1 from etl_touched t where t.chip_id = d.chip_id and t.hour = d.hour)`;
      retry.requeuedHours += queued.count;
    }
    if (unresolved.length > 0) {
      const bumped = await db`
        update ${deferred} d set attempts = d.attempts + 1, last_tried_at = now()
        where d.source = ${scope.source} and d.chip_id = any(${db.array(unresolved)}::text[])
          and not exists (select 1 from etl_touched t where t.chip_id = d.chip_id and t.hour = d.hour)`;
      retry.stillDeferredHours += bumped.count;
    }
    if (chips.length < chipsPerLookup) break;
  }
  return retry;
}

/**
 * The telemetry database's clock at the start of a run, before it looks any owner up: deferred
 * rows queued (or queued again) from then on may carry work the run did not see (a reassignment
 * the CDC consumer queued after the run read the owners), so clearLoadedDeferredHours keeps them.
 * Text, not a Date: a Date would drop the microseconds PostgreSQL compares with.
 */
export async function readDeferralCutoff(db: Db): Promise<string> {
  const [row] = await db<{ at: string }[]>`select clock_timestamp()::text as at`;
  return row!.at;
}

/**
 * Deletes the deferred rows of hours this run loaded: every pair of `etl_touched` except those of
 * chips the run found unknown (they were recorded again) and those queued at or after `cutoff`
 * (readDeferralCutoff at the run's start; queueReassignedHours stamps last_tried_at). Call only
 * after the loaded hours' owners were invalidated, so a run that dies before leaves the rows for
 * the next run to load and invalidate again. Returns how many went.
 */
export async function clearLoadedDeferredHours(db: postgres.ReservedSql, scope: EtlScope, unknownChips: readonly string[], cutoff: string): Promise<number> {
  const deferred = table(db, scope.telemetrySchema);
  const exceptUnknown = unknownChips.length > 0 ? db`and d.chip_id <> all(${db.array([...unknownChips])}::text[])` : db``;
  const cleared = await db`
    delete from ${deferred} d using etl_touched t
    where d.source = ${scope.source} and d.chip_id = t.chip_id and d.hour = t.hour
      and d.last_tried_at < ${cutoff}::timestamptz ${exceptUnknown}`;
  return cleared.count;
}

/**
 * Retention: deletes deferred hours that start before the raw-telemetry cutoff, of every source.
 * Their raw rows are dropped (or go with their month), so they can no longer be recomputed.
 */
export async function dropDeferredHoursBefore(db: Db, telemetrySchema: string, cutoff: Date): Promise<number> {
  const dropped = await db`delete from ${table(db, telemetrySchema)} where hour < ${cutoff.toISOString()}::timestamptz`;
  return dropped.count;
}

export interface DeferralSummary {
  /** Hours of this run's work whose chip the replica did not know (recorded). */
  deferredHours: number;
  /** Raw rows in those hours. */
  deferredRawRows: number;
  /** How many distinct chips, and some of them to name. */
  unknownChipCount: number;
  exampleChips: readonly string[];
  /** Hours deferred earlier whose chip is still unknown. */
  stillDeferredHours: number;
  /** Hours deferred earlier that this run loaded. */
  loadedFromDeferral: number;
}

/** The run's note on deferrals (run history, `runs`, GET /runs); empty when there is nothing to say. */
export function describeDeferrals(summary: DeferralSummary): string {
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const parts: string[] = [];
  if (summary.deferredHours > 0) {
    const examples = summary.exampleChips.slice(0, 5).join(', ');
    parts.push(
      `deferred ${count(summary.deferredHours, 'hour')} (${count(summary.deferredRawRows, 'raw row')}) of ${count(summary.unknownChipCount, 'chip')} unknown to the CRM replica` +
        `${examples ? ` (e.g. ${examples})` : ''}; they load once the replica knows the chip`,
    );
  }
  if (summary.stillDeferredHours > 0) {
    parts.push(`${count(summary.stillDeferredHours, 'earlier deferred hour')} still ${summary.stillDeferredHours === 1 ? 'waits' : 'wait'} for the CRM`);
  }
  if (summary.loadedFromDeferral > 0) parts.push(`${count(summary.loadedFromDeferral, 'hour')} loaded from earlier deferral`);
  return parts.join('; ');
}
