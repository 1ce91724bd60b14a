import type { Logger } from '../../common/log.ts';
import type { JobsMetrics } from '../metrics/jobs-metrics.ts';
import { errorMessage } from '../retry.ts';
import type { Invalidator } from './invalidator.ts';

export interface InvalidationQueue {
  /** Adds users to the next invalidation; returns at once. */
  enqueue(userIds: Iterable<string>): void;
  /** Sends what is pending now (used before shutdown and by tests); resolves when that attempt ended. */
  flush(): Promise<void>;
  pending(): number;
  stop(): void;
}

/**
 * The CDC consumer must not stall on core: a change is stored and committed, its users go here,
 * and this queue sends them (coalesced) in the background, retrying with backoff up to
 * `maxDelayMs` while core is away. Pending users live in memory only: a crash loses them, and
 * their cached reports then expire on their own (documented in docs/jobs.md).
 */
export function createInvalidationQueue(options: {
  invalidator: Invalidator;
  logger: Logger;
  metrics?: JobsMetrics;
  /** Coalescing window after the first enqueue. */
  delayMs?: number;
  baseRetryMs?: number;
  maxRetryMs?: number;
}): InvalidationQueue {
  const delayMs = options.delayMs ?? 200;
  const baseRetryMs = options.baseRetryMs ?? 1_000;
  const maxRetryMs = options.maxRetryMs ?? 60_000;
  const waiting = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;
  let stopped = false;

  const report = () => options.metrics?.invalidationPending.set({}, waiting.size);

  function schedule(ms: number): void {
    if (stopped || timer || waiting.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void send();
    }, ms);
    timer.unref?.();
  }

  async function send(): Promise<void> {
    if (inFlight) return inFlight;
    if (waiting.size === 0) return;
    const batch = [...waiting];
    inFlight = (async () => {
      try {
        await options.invalidator.invalidate({ userIds: batch });
        for (const user of batch) waiting.delete(user);
        failures = 0;
      } catch (error) {
        failures++;
        options.logger.warn('invalidation.deferred', { users: batch.length, failures, error: errorMessage(error) });
      } finally {
        inFlight = undefined;
        report();
        schedule(failures === 0 ? delayMs : Math.min(maxRetryMs, baseRetryMs * 2 ** (failures - 1)));
      }
    })();
    return inFlight;
  }

  return {
    enqueue(userIds) {
      for (const user of userIds) waiting.add(user);
      report();
      schedule(delayMs);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      await send();
    },
    pending: () => waiting.size,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
