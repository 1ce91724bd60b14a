import type { ReportSource } from './clickhouse-source.ts';
import type { ReportKind } from './documents.ts';
import { reportKey } from './keys.ts';
import type { ReportObjectStore } from './s3-store.ts';

export type DocumentRequest =
  | { kind: 'list' | 'summary'; userId: string }
  | { kind: 'daily'; userId: string; date: string; dayStartMs: number };

export type CacheOutcome = 'hit' | 'miss';

export type CachedDocument =
  | { found: true; key: string; body: string; outcome: CacheOutcome }
  /** A daily report for a day without data: nothing is stored, the route answers 404. */
  | { found: false; key: string; outcome: CacheOutcome };

export type CachedObject = { found: true; key: string; outcome: CacheOutcome } | { found: false; key: string; outcome: CacheOutcome };

export interface ReportCache {
  /** The document's JSON text: from S3, or computed from ClickHouse and stored. */
  read(request: DocumentRequest): Promise<CachedDocument>;
  /** Makes sure the object exists (HEAD first), for handing out a CDN URL. */
  ensure(request: DocumentRequest): Promise<CachedObject>;
  /** Forget in-flight computations of a user (or everyone) so none re-stores invalidated data. */
  invalidateLocal(userId: string | 'all'): void;
}

interface Computed {
  found: boolean;
  body: string;
  stored: boolean;
}

export interface ReportCacheDeps {
  store: ReportObjectStore;
  source: ReportSource;
  onOutcome?: (kind: ReportKind, outcome: CacheOutcome) => void;
}

/**
 * Read-through cache of report documents in S3. Concurrent misses for one key compute once
 * (single flight, per process). An invalidation that lands while a computation runs bumps the
 * user's generation, and the stale result is then answered but not stored.
 */
export function createReportCache(deps: ReportCacheDeps): ReportCache {
  const inFlight = new Map<string, Promise<Computed>>();
  const generations = new Map<string, number>();
  let globalGeneration = 0;
  const generationOf = (userId: string) => `${globalGeneration}:${generations.get(userId) ?? 0}`;

  async function compute(request: DocumentRequest): Promise<unknown | null> {
    switch (request.kind) {
      case 'list':
        return deps.source.reportList(request.userId);
      case 'summary':
        return deps.source.summary(request.userId);
      case 'daily':
        return deps.source.dailyReport(request.userId, request.date, request.dayStartMs);
    }
  }

  function computeOnce(request: DocumentRequest, key: string): Promise<Computed> {
    const running = inFlight.get(key);
    if (running) return running;
    const generation = generationOf(request.userId);
    const task = (async () => {
      const document = await compute(request);
      if (document === null) return { found: false, body: '', stored: false };
      const body = JSON.stringify(document);
      if (generationOf(request.userId) !== generation) return { found: true, body, stored: false };
      await deps.store.write(key, body);
      return { found: true, body, stored: true };
    })().finally(() => {
      if (inFlight.get(key) === task) inFlight.delete(key);
    });
    inFlight.set(key, task);
    return task;
  }

  const keyOf = (request: DocumentRequest) =>
    request.kind === 'daily' ? reportKey('daily', request.userId, request.date) : reportKey(request.kind, request.userId);

  return {
    async read(request) {
      const key = keyOf(request);
      const stored = await deps.store.read(key);
      if (stored !== null) {
        deps.onOutcome?.(request.kind, 'hit');
        return { found: true, key, body: stored, outcome: 'hit' };
      }
      deps.onOutcome?.(request.kind, 'miss');
      const computed = await computeOnce(request, key);
      return computed.found ? { found: true, key, body: computed.body, outcome: 'miss' } : { found: false, key, outcome: 'miss' };
    },

    async ensure(request) {
      const key = keyOf(request);
      if (await deps.store.exists(key)) {
        deps.onOutcome?.(request.kind, 'hit');
        return { found: true, key, outcome: 'hit' };
      }
      deps.onOutcome?.(request.kind, 'miss');
      let computed = await computeOnce(request, key);
      // Invalidated while computing: the result was not stored, and a URL needs the object.
      if (computed.found && !computed.stored) computed = await computeOnce(request, key);
      return { found: computed.found, key, outcome: 'miss' };
    },

    invalidateLocal(userId) {
      if (userId === 'all') {
        globalGeneration++;
        inFlight.clear();
        return;
      }
      generations.set(userId, (generations.get(userId) ?? 0) + 1);
      for (const key of inFlight.keys()) if (key.startsWith(`${userId}/`)) inFlight.delete(key);
    },
  };
}
