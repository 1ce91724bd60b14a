import type { ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Logger } from '../../common/log.ts';
import type { Invalidator } from '../invalidation/invalidator.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import type { ActiveRuns } from '../runs/active-runs.ts';
import type { RunHistory, RunRecord } from '../runs/run-history.ts';
import { errorMessage } from '../retry.ts';
import { tryJobLock, type JobLock } from '../schedule/job-lock.ts';
import { clearLoadedDeferredHours, describeDeferrals, recordDeferredHours, requeueDeferredHours } from './deferred-hours.ts';
import { lookupChipDimensions, type ChipDimensions } from './dimensions.ts';
import { collectTouchedHours, dropTouchedHours, prepareEtlSession, resetEtlSession, resetTouchedHours, streamHourlyAggregates, type HourlyAggregate, type TouchedBy } from './hourly-aggregates.ts';
import { toMartRows } from './mart-rows.ts';
import { checkScope, type EtlScope } from './scope.ts';
import { advanceWatermark, EPOCH, instantToDate, readIngestBound, readWatermark, type Instant } from './watermark.ts';

export interface EtlDeps {
  telemetryDb: postgres.Sql;
  /** Client on the database holding the mart and the CRM replica. */
  clickhouse: ClickHouseClient;
  invalidator: Invalidator;
  runHistory: RunHistory;
  logger: Logger;
  now: () => number;
  metrics?: JobsMetrics;
  activeRuns?: ActiveRuns;
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

export interface EtlResult {
  status: 'succeeded' | 'failed';
  run: RunRecord;
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
  /** Users whose mart rows were (re)written; they were invalidated in core. */
  affectedUsers: string[];
}

export type EtlStart = { status: 'skipped'; reason: string } | { status: 'started'; runId: string; done: Promise<EtlResult> };

/** Most users a result lists back (the count is always exact). */
const LISTED_USERS = 1_000;
/** Dimensions cached per run; past this the cache starts over (bounded memory on huge fleets). */
const DIMENSION_CACHE_LIMIT = 100_000;

/**
 * Takes the scope's lock and starts a run in the background; `skipped` when another process holds
 * the lock. The HTTP trigger answers 202 with the run id; the CLI and scheduler await `done`.
 */
export async function startEtl(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks = {}): Promise<EtlStart> {
  checkScope(scope);
  if (request.kind === 'backfill' && !(request.from.getTime() < request.to.getTime())) {
    throw new Error(`backfill needs from < to, got ${request.from.toISOString()} .. ${request.to.toISOString()}`);
  }
  const job = request.kind === 'incremental' ? 'etl' : 'backfill';
  const lock = await tryJobLock(deps.telemetryDb, `etl:${scope.source}`);
  if (!lock) {
    deps.metrics?.runsSkipped.inc({ job });
    deps.logger.info('etl.skipped', { job, source: scope.source, reason: 'another process holds the lock' });
    return { status: 'skipped', reason: `another process is running the ETL for ${scope.source}` };
  }
  const runId = randomUUID();
  return { status: 'started', runId, done: execute(deps, scope, settings, request, hooks, lock, runId) };
}

/** Runs one ETL pass to the end (scheduler, CLI, tests). */
export async function runEtl(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks = {}): Promise<EtlResult | { status: 'skipped'; reason: string }> {
  const started = await startEtl(deps, scope, settings, request, hooks);
  return started.status === 'skipped' ? started : started.done;
}

async function execute(deps: EtlDeps, scope: EtlScope, settings: EtlSettings, request: EtlRequest, hooks: EtlHooks, lock: JobLock, runId: string): Promise<EtlResult> {
  const db = lock.connection;
  const job = request.kind === 'incremental' ? 'etl' : 'backfill';
  const log = deps.logger.child({ runId, job, source: scope.source });
  const startedAt = new Date(deps.now());
  // Every row of this run carries the same, newer version: ReplacingMergeTree keeps the newest.
  const version = deps.now();
  const progress = { touchedHours: 0, requeuedHours: 0, rowsRead: 0, rowsWritten: 0, batches: 0 };
  const endActive = deps.activeRuns?.begin({ runId, job, startedAt, progress }) ?? (() => {});

  let windowFrom: Date = request.kind === 'backfill' ? request.from : instantToDate(EPOCH);
  let windowTo: Date = request.kind === 'backfill' ? request.to : startedAt;
  const affected = new Set<string>();
  const dimensionCache = new Map<string, ChipDimensions | null>();
  let unmatchedRows = 0;
  // Every chip this run found unknown: their hours were recorded as deferred and must not be
  // cleared as loaded. Bounded by the number of chips, like `affected` by the number of users.
  const unknownChips = new Set<string>();
  const deferral = { deferredHours: 0, stillDeferredHours: 0, loadedFromDeferral: 0 };
  let status: 'succeeded' | 'failed' = 'succeeded';
  let error = '';

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

  const exampleChips = () => [...unknownChips].slice(0, 20);

  const writeBatch = async (aggregates: HourlyAggregate[]) => {
    await resolveChips(aggregates.map((a) => a.chipId));
    const { rows, deferred, deferredRawRows } = toMartRows(aggregates, (chip) => dimensionCache.get(chip), version);
    if (rows.length > 0) {
      await deps.clickhouse.insert({ table: 'report_hourly', values: rows, format: 'JSONEachRow' });
      for (const row of rows) affected.add(row.user_id);
    }
    if (deferred.length > 0) {
      // On the pool, not the run's connection: the aggregate cursor keeps that one busy. Durable
      // before the watermark can move, which happens only after the last batch.
      await recordDeferredHours(deps.telemetryDb, scope, deferred);
      for (const hour of deferred) unknownChips.add(hour.chipId);
      unmatchedRows += deferredRawRows;
      deferral.deferredHours += deferred.length;
    }
    progress.rowsRead += aggregates.reduce((sum, a) => sum + a.eventCount, 0);
    progress.rowsWritten += rows.length;
    progress.batches++;
    await hooks.afterBatchWritten?.({ index: progress.batches, rows: rows.length });
  };

  try {
    await prepareEtlSession(db);
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
      windowFrom = instantToDate(from);
      windowTo = instantToDate(bound);
    } else {
      touchedBy = { kind: 'event_time', from: request.from, to: request.to };
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
      progress.touchedHours += retry.requeuedHours;
      deferral.stillDeferredHours = retry.stillDeferredHours;
      if (retry.requeuedHours > 0) await db`analyze etl_touched`;
    }
    log.info('etl.window', {
      from: touchedBy.kind === 'received' ? touchedBy.from : touchedBy.from.toISOString(),
      to: touchedBy.kind === 'received' ? touchedBy.to : touchedBy.to.toISOString(),
      touchedHours: progress.touchedHours,
      requeuedHours: progress.requeuedHours,
      stillDeferredHours: deferral.stillDeferredHours,
    });

    if (progress.touchedHours > 0) {
      let pending: HourlyAggregate[] = [];
      for await (const aggregates of streamHourlyAggregates(db, scope, settings.cursorRows)) {
        pending.push(...aggregates);
        while (pending.length >= settings.batchRows) {
          await writeBatch(pending.slice(0, settings.batchRows));
          pending = pending.slice(settings.batchRows);
        }
      }
      if (pending.length > 0) await writeBatch(pending);
    }

    // Caches are dropped before the watermark moves: if core cannot be told, the run fails and the
    // next one recomputes the same hours and tries again.
    if (affected.size > 0) {
      const invalidation = await deps.invalidator.invalidate({ userIds: [...affected] });
      log.info('etl.invalidated', { users: affected.size, requests: invalidation.requests, scope: invalidation.scope });
    }
    // Deferred rows go only once their hours are loaded and invalidated; the watermark after them.
    if (progress.touchedHours > 0) deferral.loadedFromDeferral = await clearLoadedDeferredHours(db, scope, [...unknownChips]);
    await hooks.beforeWatermark?.();

    if (request.kind === 'incremental' && bound !== undefined) {
      const moved = await advanceWatermark(db, scope, stored, bound);
      if (!moved) throw new Error('the watermark was moved by another run meanwhile; this run\'s load stands, the next run continues from the newer watermark');
      deps.metrics?.etlWatermark.set({ source: scope.source }, Date.parse(bound) / 1000);
    }
    error = describeDeferrals({ ...deferral, deferredRawRows: unmatchedRows, unknownChipCount: unknownChips.size, exampleChips: exampleChips() });
    if (deferral.deferredHours > 0) log.warn('etl.deferred_hours', { deferredHours: deferral.deferredHours, unmatchedRows, chips: exampleChips() });
  } catch (caught) {
    status = 'failed';
    error = errorMessage(caught);
    log.error('etl.failed', { error: caught, progress });
  } finally {
    await dropTouchedHours(db).catch(() => {});
    await resetEtlSession(db).catch(() => {});
    await lock.release();
    endActive();
  }

  const finishedAt = new Date(deps.now());
  const run: RunRecord = {
    runId,
    job,
    startedAt,
    finishedAt,
    status,
    windowFrom,
    windowTo,
    rowsRead: progress.rowsRead,
    rowsWritten: progress.rowsWritten,
    affectedUsers: affected.size,
    error,
  };
  try {
    await deps.runHistory.record(run);
  } catch (recordError) {
    log.warn('etl.history_not_recorded', { error: errorMessage(recordError) });
  }
  deps.metrics?.runs.inc({ job, status });
  deps.metrics?.runDuration.observe({ job }, (finishedAt.getTime() - startedAt.getTime()) / 1000);
  deps.metrics?.etlRowsRead.inc({}, progress.rowsRead);
  deps.metrics?.etlRowsWritten.inc({}, progress.rowsWritten);
  if (unmatchedRows > 0) deps.metrics?.etlUnmatchedRows.inc({}, unmatchedRows);
  if (deferral.deferredHours > 0) deps.metrics?.etlDeferredHours.inc({ outcome: 'deferred' }, deferral.deferredHours);
  if (deferral.loadedFromDeferral > 0) deps.metrics?.etlDeferredHours.inc({ outcome: 'loaded' }, deferral.loadedFromDeferral);
  log.info('etl.finished', { status, durationMs: finishedAt.getTime() - startedAt.getTime(), ...progress, affectedUsers: affected.size, unmatchedRows, ...deferral });
  return {
    status,
    run,
    touchedHours: progress.touchedHours,
    unmatchedRows,
    unmatchedChips: exampleChips(),
    ...deferral,
    affectedUsers: [...affected].slice(0, LISTED_USERS),
  };
}
