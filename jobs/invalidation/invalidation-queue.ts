import type postgres from 'postgres';
import { isOwnerRef } from '../../common/identity/owner-ref.ts';
import type { Logger } from '../../common/log.ts';
import { noJobsMetrics, type JobsMetrics } from '../metrics/jobs-metrics.ts';
import { errorMessage } from '../retry.ts';
import type { Invalidator } from './invalidator.ts';

export interface InvalidationQueue {
  /**
   * Records users durably (one statement) and wakes the drain. Resolves once the rows are stored;
   * rejects when they could not be, so the CDC consumer does not commit the batch.
   */
  enqueue(userIds: Iterable<string>): Promise<void>;
  /** Starts the background drain: a first pass at once (rows a dead process left), then as needed. */
  start(): void;
  /** Sends the due rows now (shutdown, tests); resolves when that pass ended, whatever its outcome. */
  flush(): Promise<void>;
  /** Rows in the table (every process's), also set on the `jobs_invalidation_pending_users` gauge. */
  pending(): Promise<number>;
  /** Stops scheduling passes; a pass in flight finishes on its own, unsent rows stay in the table. */
  stop(): void;
}

export interface RetryPolicy {
  baseRetryMs: number;
  maxRetryMs: number;
}

/** Wait before the attempt after `failures` consecutive failures: base · 2^(failures−1), capped. */
export function retryDelayMs(failures: number, policy: RetryPolicy): number {
  if (failures <= 0) return 0;
  return Math.min(policy.maxRetryMs, policy.baseRetryMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * What to store for a batch's users: each once, sorted (concurrent upserts then lock rows in one
 * order and cannot deadlock), and only owner refs: core answers 422 to anything else, so one such
 * value would fail every later batch it is sent with; nothing else can have cached objects, and the
 * table's length check must never fail a CDC batch.
 */
export function usersToRecord(users: Iterable<string>): { userIds: string[]; skipped: string[] } {
  const unique = [...new Set(users)];
  return { userIds: unique.filter((user) => isOwnerRef(user)).sort(), skipped: unique.filter((user) => !isOwnerRef(user)) };
}

export interface PassTiming extends RetryPolicy {
  /** Coalescing window: how long after a wake-up (or a pass that left due rows) the next pass waits. */
  delayMs: number;
  /** Longest sleep between passes (rows of other processes' expired leases are found by then). */
  pollMs: number;
}

/**
 * When the next drain pass runs: when the earliest row falls due (at most `pollMs` away), but not
 * sooner than the coalescing window after a success or the backoff after `failures` failed passes.
 */
export function nextPassDelayMs(state: { failures: number; nextDueInMs: number | null }, timing: PassTiming): number {
  const due = state.nextDueInMs === null ? timing.pollMs : Math.min(timing.pollMs, Math.max(0, state.nextDueInMs));
  const floor = state.failures > 0 ? retryDelayMs(state.failures, timing) : timing.delayMs;
  return Math.max(due, floor);
}

export interface InvalidationQueueOptions {
  /** The telemetry database, where `<schema>.pending_invalidations` lives. */
  db: postgres.Sql;
  invalidator: Invalidator;
  logger: Logger;
  /** Absent: metrics off (noJobsMetrics discards every figure). */
  metrics?: JobsMetrics;
  /** The process clock for pass timing (the rows' due times are the database's now()). */
  now?: () => number;
  /** `public` in production; tests use a scratch copy of the schema. */
  schema?: string;
  /** Users claimed and sent per invalidate call (the invalidator splits further by its own limit). */
  batchUsers?: number;
  /** How long a claimed row is hidden from other drains; must outlast one invalidate call with its retries. */
  leaseMs?: number;
  delayMs?: number;
  pollMs?: number;
  baseRetryMs?: number;
  maxRetryMs?: number;
}

interface ClaimedRow {
  user_id: string;
  /** As text, so the compare-on-delete is exact (a JS Date would drop the microseconds). */
  enqueued_at: string;
  attempts: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The CDC consumer's invalidations, kept in `pending_invalidations` (telemetry PostgreSQL) until core
 * confirmed them. The consumer records a batch's users before committing its offsets; this drain
 * claims due rows (SKIP LOCKED + a lease on next_attempt_at, so concurrent jobs processes take
 * different rows), sends them to core coalesced, deletes the rows whose enqueued_at did not move
 * meanwhile, and on failure backs each row off exponentially (capped). The consumer never waits for
 * core, and a crash loses nothing: a later process sends what is left.
 */
export function createInvalidationQueue(options: InvalidationQueueOptions): InvalidationQueue {
  const schema = options.schema ?? 'public';
  if (!SCHEMA.test(schema)) throw new Error(`schema must be a plain lower-case identifier, got "${schema}"`);
  const { db, invalidator } = options;
  const metrics = options.metrics ?? noJobsMetrics;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'invalidation-queue' });
  const table = db(`${schema}.pending_invalidations`);
  const batchUsers = options.batchUsers ?? 1_000;
  const leaseMs = options.leaseMs ?? 120_000;
  const timing: PassTiming = {
    delayMs: options.delayMs ?? 200,
    pollMs: options.pollMs ?? 30_000,
    baseRetryMs: options.baseRetryMs ?? 1_000,
    maxRetryMs: options.maxRetryMs ?? 60_000,
  };

  let started = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = 0;
  let running: Promise<void> | undefined;
  /** Consecutive passes that failed (core or the database); wake-ups wait for the backoff meanwhile. */
  let failures = 0;

  function clearTimer(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }

  /** Runs a pass in `ms` unless one is already due sooner. */
  function schedule(ms: number): void {
    if (!started || stopped) return;
    const at = now() + ms;
    if (timer && timerAt <= at) return;
    clearTimer();
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      void runPass();
    }, ms);
    timer.unref?.();
  }

  async function claimDue(): Promise<ClaimedRow[]> {
    return db<ClaimedRow[]>`
      with due as (
        select user_id from ${table}
        where next_attempt_at <= now()
        order by next_attempt_at, user_id
        limit ${batchUsers}
        for update skip locked
      )
      update ${table} p set next_attempt_at = now() + ${leaseMs}::float8 * interval '1 millisecond'
      from due where p.user_id = due.user_id
      returning p.user_id, p.enqueued_at::text as enqueued_at, p.attempts`;
  }

  /** Deletes what was sent unless a newer request came in meanwhile; those are due again at once. */
  async function completeSent(rows: ClaimedRow[]): Promise<void> {
    const users = rows.map((row) => row.user_id);
    await db`
      delete from ${table} p
      using unnest(${db.array(users)}::text[], ${db.array(rows.map((row) => row.enqueued_at))}::text[]) as sent(user_id, enqueued_at)
      where p.user_id = sent.user_id and p.enqueued_at = sent.enqueued_at::timestamptz`;
    await db`
      update ${table} set next_attempt_at = now(), attempts = 0, last_error = null
      where user_id = any(${db.array(users)}::text[])`;
  }

  async function backOff(rows: ClaimedRow[], error: unknown): Promise<void> {
    const delays = rows.map((row) => retryDelayMs(row.attempts + 1, timing));
    await db`
      update ${table} p
      set attempts = p.attempts + 1,
          last_error = ${errorMessage(error).slice(0, 1000)},
          next_attempt_at = now() + failed.delay_ms * interval '1 millisecond'
      from unnest(${db.array(rows.map((row) => row.user_id))}::text[], ${db.array(delays)}::int[]) as failed(user_id, delay_ms)
      where p.user_id = failed.user_id`;
  }

  /** Sends due rows batch by batch; false as soon as core could not be told. */
  async function drainDue(): Promise<boolean> {
    for (;;) {
      const rows = await claimDue();
      if (rows.length === 0) return true;
      try {
        await invalidator.invalidate({ userIds: rows.map((row) => row.user_id) });
      } catch (error) {
        log.warn('invalidation.deferred', { users: rows.length, failures: failures + 1, error: errorMessage(error) });
        await backOff(rows, error);
        return false;
      }
      await completeSent(rows);
      if (rows.length < batchUsers) return true;
    }
  }

  async function readStats(): Promise<{ pending: number; nextDueInMs: number | null }> {
    const [row] = await db<{ pending: number; next_due_in_ms: number | null }[]>`
      select count(*)::int as pending,
             (extract(epoch from min(next_attempt_at) - now()) * 1000)::float8 as next_due_in_ms
      from ${table}`;
    metrics.invalidationPending.set({}, row?.pending ?? 0);
    return { pending: row?.pending ?? 0, nextDueInMs: row?.next_due_in_ms ?? null };
  }

  /** One pass; never rejects. Returns the delay before the next one. */
  async function pass(): Promise<number> {
    let nextDueInMs: number | null = null;
    try {
      const sent = await drainDue();
      failures = sent ? 0 : failures + 1;
      nextDueInMs = (await readStats()).nextDueInMs;
    } catch (error) {
      failures++;
      log.warn('invalidation.queue_unavailable', { failures, error: errorMessage(error) });
    }
    return nextPassDelayMs({ failures, nextDueInMs }, timing);
  }

  function runPass(): Promise<void> {
    if (running) return running;
    clearTimer();
    running = (async () => {
      const delay = await pass();
      running = undefined;
      schedule(delay);
    })();
    return running;
  }

  return {
    async enqueue(userIds) {
      const { userIds: users, skipped } = usersToRecord(userIds);
      // The count only: a value that is not a ref may be a username.
      if (skipped.length > 0) log.warn('invalidation.skipped_non_owner_refs', { count: skipped.length });
      if (users.length === 0) return;
      await db`
        insert into ${table} (user_id, enqueued_at, next_attempt_at)
        select user_id, now(), now() from unnest(${db.array(users)}::text[]) as user_id
        on conflict (user_id) do update set enqueued_at = excluded.enqueued_at`;
      // During a backoff the new rows wait for it, like the ones already there; otherwise they go
      // out after the coalescing window, or right after the pass in flight (which cannot delete them).
      if (failures === 0) schedule(timing.delayMs);
    },
    start() {
      if (started || stopped) return;
      started = true;
      schedule(0);
    },
    async flush() {
      if (running) await running;
      await runPass();
    },
    async pending() {
      return (await readStats()).pending;
    },
    stop() {
      stopped = true;
      clearTimer();
    },
  };
}
