import type { ClickHouseClient } from '@clickhouse/client';
import type postgres from 'postgres';
import type { Invalidator } from '../invalidation/invalidator.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import type { RunContext } from '../run-context.ts';
import { clearLoadedDeferredHours, describeDeferrals, readDeferralCutoff, recordDeferredHours, requeueDeferredHours } from './deferred-hours.ts';
import { lookupChipDimensions, type ChipDimensions } from './dimensions.ts';
import { collectTouchedHours, cutTouchedHours, dropTouchedHours, pageTouchedHoursOf, prepareEtlSession, resetEtlSession, resetTouchedHours, streamHourlyAggregates, touchedSpan, type HourlyAggregate, type TouchedBy } from './hourly-aggregates.ts';
import { toMartRows } from './mart-rows.ts';
import { lookupHourCuts } from './owner-spans.ts';
import { retireMovedRows } from './retire-moved-rows.ts';
import type { EtlScope } from './scope.ts';
import { advanceWatermark, EPOCH, instantToDate, readIngestBound, readWatermark, type Instant } from './watermark.ts';

/** What the pipeline itself uses; the run wrapper's needs (lock, history, ids) are its own. */
export interface EtlPipelineDeps {
  /** Pool for writes beside the run's connection (deferred hours while the cursor is open). */
  telemetryDb: postgres.Sql;
  /** Client on the database holding the mart and the CRM replica. */
  clickhouse: ClickHouseClient;
  invalidator: Invalidator;
  metrics: JobsMetrics;
}

export interface EtlSettings {
  /** Mart rows per ClickHouse insert. */
  batchRows: number;
  /** Aggregates per cursor fetch. */
  cursorRows: number;
  /** Margin below now() for the incremental window's upper bound (see readIngestBound). */
  settleSeconds: number;
}

export const DEFAULT_ETL_SETTINGS: EtlSettings = { batchRows: 5_000, cursorRows: 2_000, settleSeconds: 5 };

export type EtlRequest =
  /** From the stored watermark up to what is safely committed; advances the watermark. */
  | { kind: 'incremental' }
  /** Recompute every hour with events in [from, to); leaves the watermark alone. */
  | { kind: 'backfill'; from: Date; to: Date };

export interface EtlHooks {
  /** Called after each mart insert succeeded; a throw here fails the run (tests inject crashes). */
  afterBatchWritten?: (batch: { index: number; rows: number }) => void | Promise<void>;
  /** Called after invalidation, just before the watermark moves; a throw fails the run there. */
  beforeWatermark?: () => void | Promise<void>;
}

/** What a run found, filled in as it goes (a failed run reports how far it got). */
export interface EtlOutcome {
  /** (chip, hour) pairs recomputed: those the window touched plus requeued deferred ones. */
  touchedHours: number;
  /** Raw rows in hours whose chip the CRM replica did not know (deferred, not loaded). */
  unmatchedRows: number;
  /** Some of those chips (at most 20). */
  unmatchedChips: string[];
  /** Hours recorded in etl_deferred_hours by this run (chip unknown). */
  deferredHours: number;
  /** Hours deferred by earlier runs whose chip is still unknown. */
  stillDeferredHours: number;
  /** Hours deferred by earlier runs that this run loaded (their deferred rows deleted). */
  loadedFromDeferral: number;
  /** Users whose mart rows were (re)written or retired; they were invalidated in core (first 1,000). */
  affectedUsers: string[];
  /** Touched hours cut in two (or more) because a reassignment falls inside them. */
  cutHours: number;
  /** Rows of a previous owner emptied because their hour (or part of it) belongs to another owner now. */
  retiredRows: number;
}

export function emptyEtlOutcome(): EtlOutcome {
  return { touchedHours: 0, unmatchedRows: 0, unmatchedChips: [], deferredHours: 0, stillDeferredHours: 0, loadedFromDeferral: 0, affectedUsers: [], cutHours: 0, retiredRows: 0 };
}

/** Most users a result lists back (the count is always exact). */
const LISTED_USERS = 1_000;
/** Dimensions cached per run; past this the cache starts over (bounded memory on huge fleets). */
const DIMENSION_CACHE_LIMIT = 100_000;
/** (chip, hour) pairs of reassigned prostheses read back from etl_touched and retired per page. */
const RETIRE_PAIRS_PER_PAGE = 5_000;

/**
 * One ETL pass on the run's locked connection: window → touched hours (+ requeued deferred hours)
 * → stream the aggregate → insert / defer → invalidate → clear loaded deferrals → watermark. Every
 * mart row carries the run's start in ms as `_version`. Fills `outcome` and the run's report as it
 * goes; throws when the run fails (the watermark has not moved then).
 */
export async function runEtlPipeline(
  run: RunContext,
  deps: EtlPipelineDeps,
  scope: EtlScope,
  settings: EtlSettings,
  request: EtlRequest,
  hooks: EtlHooks,
  outcome: EtlOutcome,
): Promise<void> {
  const db = run.connection;
  const { report, progress } = run;
  // Every row of this run carries the same, newer version: ReplacingMergeTree keeps the newest.
  const version = run.startedAt.getTime();
  Object.assign(progress, { touchedHours: 0, requeuedHours: 0, rowsRead: 0, rowsWritten: 0, batches: 0 });
  const affected = new Set<string>();
  const dimensionCache = new Map<string, ChipDimensions | null>();
  // Every chip this run found unknown: their hours were recorded as deferred and must not be
  // cleared as loaded. Bounded by the number of chips, like `affected` by the number of users.
  const unknownChips = new Set<string>();
  // Chips (→ prosthesis) of prostheses that ever had two owners and got rows from this run: in their
  // touched hours a previous owner may still have a row (retireMovedRows). Bounded by the number of
  // such prostheses, not by their hours: the hours are read back from etl_touched page by page at
  // the end, so a whole-retention rebuild does not hold every hour of them in memory.
  const reassignedChips = new Map<string, string>();
  const exampleChips = () => [...unknownChips].slice(0, 20);
  const sync = () => {
    report.rowsRead = progress.rowsRead!;
    report.rowsWritten = progress.rowsWritten!;
    report.affectedUsers = affected.size;
    outcome.touchedHours = progress.touchedHours!;
    outcome.unmatchedChips = exampleChips();
    outcome.affectedUsers = [...affected].slice(0, LISTED_USERS);
  };

  /** Looks up the chips the cache lacks (one batched lookup) and caches hits and misses. */
  const resolveChips = async (chipIds: Iterable<string>) => {
    const wanted = [...new Set(chipIds)];
    let missing = wanted.filter((chip) => !dimensionCache.has(chip));
    if (missing.length === 0) return;
    if (dimensionCache.size + missing.length > DIMENSION_CACHE_LIMIT) {
      // Starting over drops the wanted chips that were cached too: look them all up again.
      dimensionCache.clear();
      missing = wanted;
    }
    const found = await lookupChipDimensions(deps.clickhouse, missing);
    for (const chip of missing) dimensionCache.set(chip, found.get(chip) ?? null);
  };

  const writeBatch = async (aggregates: HourlyAggregate[]) => {
    await resolveChips(aggregates.map((a) => a.chipId));
    const { rows, deferred, deferredRawRows } = toMartRows(aggregates, (chip) => dimensionCache.get(chip), version);
    if (rows.length > 0) {
      await deps.clickhouse.insert({ table: 'report_hourly', values: rows, format: 'JSONEachRow' });
      for (const row of rows) {
        affected.add(row.user_id);
        if ((dimensionCache.get(row.chip_id)?.owners.length ?? 0) < 2) continue;
        reassignedChips.set(row.chip_id, row.prosthesis_id);
      }
    }
    if (deferred.length > 0) {
      // On the pool, not the run's connection: the aggregate cursor keeps that one busy. Durable
      // before the watermark can move, which happens only after the last batch.
      await recordDeferredHours(deps.telemetryDb, scope, deferred);
      for (const hour of deferred) unknownChips.add(hour.chipId);
      outcome.unmatchedRows += deferredRawRows;
      outcome.deferredHours += deferred.length;
      deps.metrics.etlUnmatchedRows.inc({}, deferredRawRows);
      deps.metrics.etlDeferredHours.inc({ outcome: 'deferred' }, deferred.length);
    }
    const rawRows = aggregates.reduce((sum, a) => sum + a.eventCount, 0);
    progress.rowsRead! += rawRows;
    progress.rowsWritten! += rows.length;
    progress.batches!++;
    deps.metrics.etlRowsRead.inc({}, rawRows);
    deps.metrics.etlRowsWritten.inc({}, rows.length);
    sync();
    await hooks.afterBatchWritten?.({ index: progress.batches!, rows: rows.length });
  };

  try {
    await prepareEtlSession(db);
    // Before any owner lookup: deferred rows queued from here on are kept for the next run.
    const deferralCutoff = await readDeferralCutoff(db);
    let stored: Instant | null = null;
    let touchedBy: TouchedBy;
    let bound: Instant | undefined;
    if (request.kind === 'incremental') {
      stored = await readWatermark(db, scope);
      const from = stored ?? EPOCH;
      bound = await readIngestBound(db, scope, settings.settleSeconds);
      // Both are PostgreSQL's fixed-width UTC text, so they compare as strings.
      if (bound < from) bound = from;
      touchedBy = { kind: 'received', from, to: bound };
      report.windowFrom = instantToDate(from);
      report.windowTo = instantToDate(bound);
    } else {
      touchedBy = { kind: 'event_time', from: request.from, to: request.to };
      report.windowFrom = request.from;
      report.windowTo = request.to;
    }

    if (touchedBy.kind === 'received' && touchedBy.from === touchedBy.to) await resetTouchedHours(db);
    else progress.touchedHours = await collectTouchedHours(db, scope, touchedBy);
    if (request.kind === 'incremental') {
      // Hours deferred by earlier runs whose chip the replica knows now are recomputed with the
      // window's: same aggregate, same version, same invalidation.
      const retry = await requeueDeferredHours(db, scope, async (chips) => {
        await resolveChips(chips);
        return new Set(chips.filter((chip) => dimensionCache.get(chip)));
      });
      progress.requeuedHours = retry.requeuedHours;
      progress.touchedHours! += retry.requeuedHours;
      outcome.stillDeferredHours = retry.stillDeferredHours;
      if (retry.requeuedHours > 0) await db`analyze etl_touched`;
    }
    // Hours a reassignment falls inside are cut there, so each owner gets the events of their time.
    const span = progress.touchedHours! > 0 ? await touchedSpan(db) : null;
    if (span) outcome.cutHours = await cutTouchedHours(db, await lookupHourCuts(deps.clickhouse, span.fromMs, span.toMs));
    sync();
    run.log.info('etl.window', {
      from: touchedBy.kind === 'received' ? touchedBy.from : touchedBy.from.toISOString(),
      to: touchedBy.kind === 'received' ? touchedBy.to : touchedBy.to.toISOString(),
      touchedHours: progress.touchedHours,
      requeuedHours: progress.requeuedHours,
      stillDeferredHours: outcome.stillDeferredHours,
      cutHours: outcome.cutHours,
    });

    if (progress.touchedHours! > 0) await streamInBatches(streamHourlyAggregates(db, scope, settings.cursorRows), settings.batchRows, writeBatch);
    // After every insert of the run landed: rows it did not rewrite in those hours are a previous
    // owner's, and go (emptied, newer version); their owners' caches are dropped with the rest.
    if (reassignedChips.size > 0) {
      let retiredRows = 0;
      const retiredUsers = new Set<string>();
      for await (const page of pageTouchedHoursOf(db, [...reassignedChips.keys()], RETIRE_PAIRS_PER_PAGE)) {
        const hoursByProsthesis = new Map<string, Set<number>>();
        for (const { chipId, hourSeconds } of page) {
          const pid = reassignedChips.get(chipId)!;
          const hours = hoursByProsthesis.get(pid) ?? new Set<number>();
          hours.add(hourSeconds);
          hoursByProsthesis.set(pid, hours);
        }
        // Every page after the last insert of the run: no hour is retired while its rows still come.
        const retired = await retireMovedRows(deps.clickhouse, hoursByProsthesis, version);
        retiredRows += retired.length;
        for (const row of retired) {
          affected.add(row.user_id);
          retiredUsers.add(row.user_id);
        }
      }
      outcome.retiredRows = retiredRows;
      sync();
      if (retiredRows > 0) run.log.info('etl.retired_rows', { rows: retiredRows, users: retiredUsers.size });
    }

    // Caches are dropped before the watermark moves: if core cannot be told, the run fails and the
    // next one recomputes the same hours and tries again.
    if (affected.size > 0) {
      const invalidation = await deps.invalidator.invalidate({ userIds: [...affected] });
      run.log.info('etl.invalidated', { users: affected.size, requests: invalidation.requests, scope: invalidation.scope });
    }
    // Deferred rows go only once their hours are loaded and invalidated; the watermark after them.
    if (progress.touchedHours! > 0) {
      outcome.loadedFromDeferral = await clearLoadedDeferredHours(db, scope, [...unknownChips], deferralCutoff);
      if (outcome.loadedFromDeferral > 0) deps.metrics.etlDeferredHours.inc({ outcome: 'loaded' }, outcome.loadedFromDeferral);
    }
    await hooks.beforeWatermark?.();

    if (request.kind === 'incremental' && bound !== undefined) {
      const moved = await advanceWatermark(db, scope, stored, bound);
      if (!moved) throw new Error('the watermark was moved by another run meanwhile; this run\'s load stands, the next run continues from the newer watermark');
      deps.metrics.etlWatermark.set({ source: scope.source }, Date.parse(bound) / 1000);
    }
    report.note = describeDeferrals({ ...outcome, deferredRawRows: outcome.unmatchedRows, unknownChipCount: unknownChips.size, exampleChips: exampleChips() });
    if (outcome.deferredHours > 0) run.log.warn('etl.deferred_hours', { deferredHours: outcome.deferredHours, unmatchedRows: outcome.unmatchedRows, chips: exampleChips() });
  } finally {
    sync();
    await dropTouchedHours(db).catch(() => {});
    await resetEtlSession(db).catch(() => {});
    run.log.info('etl.progress', { ...progress, affectedUsers: affected.size, unmatchedRows: outcome.unmatchedRows, deferredHours: outcome.deferredHours, loadedFromDeferral: outcome.loadedFromDeferral });
  }
}

/**
 * Regroups cursor pages into batches of `batchRows` and writes them with one write in flight while
 * the next page is fetched: PostgreSQL aggregates the next hours while ClickHouse stores the last
 * ones. A failed write fails the loop at the next batch boundary at the latest.
 */
async function streamInBatches<T>(pages: AsyncIterable<T[]>, batchRows: number, write: (batch: T[]) => Promise<void>): Promise<void> {
  let inFlight: Promise<void> | undefined;
  const send = async (batch: T[]) => {
    await inFlight;
    inFlight = write(batch);
    // Awaited at the next send or at the end; this only keeps a failure from counting as unhandled meanwhile.
    inFlight.catch(() => {});
  };
  let pending: T[] = [];
  try {
    for await (const page of pages) {
      for (const item of page) pending.push(item);
      while (pending.length >= batchRows) {
        await send(pending.slice(0, batchRows));
        pending = pending.slice(batchRows);
      }
    }
    if (pending.length > 0) await send(pending);
  } finally {
    // Settle the last write before the caller releases the connection or reports.
    await inFlight?.catch(() => {});
  }
  await inFlight;
}
