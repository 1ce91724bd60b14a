import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ReportSource } from './clickhouse-source.ts';
import type { ReportKind } from './documents.ts';
import { reportKey, userPrefix } from './keys.ts';
import { noReportVersions, type ReportVersions } from './report-versions.ts';
import type { ReportObjectStore } from './s3-store.ts';

export type DocumentRequest =
  | { kind: 'list' | 'summary'; userId: string }
  | { kind: 'daily'; userId: string; date: string; dayStartMs: number };

/** memory: this process held it; hit: S3 held it; miss: computed from ClickHouse. */
export type CacheOutcome = 'memory' | 'hit' | 'miss';

/** A document as stored: its JSON text and its strong ETag (the MD5 S3 gives the same bytes). */
export interface StoredDocument {
  body: string;
  etag: string;
  /** The parsed document, kept beside the text once a route needed it (the paged list). */
  parsed?: unknown;
}

export type CachedDocument =
  | { found: true; key: string; document: StoredDocument; outcome: CacheOutcome }
  /** A daily report for a day without data: nothing is stored in S3 (only a short-lived marker in memory), the route answers 404. */
  | { found: false; key: string; outcome: CacheOutcome };

export type CachedObject = { found: boolean; key: string; outcome: 'hit' | 'miss' };

export interface ReportCache {
  /** The document: from memory, from S3, or computed from ClickHouse (then stored off the response path). */
  read(request: DocumentRequest): Promise<CachedDocument>;
  /** Makes sure the S3 object exists, for handing out a CDN URL. */
  ensure(request: DocumentRequest): Promise<CachedObject>;
  /**
   * Drops the users' (or everyone's) documents on every level this service owns: the version in
   * Redis (so every replica drops its copies), this process's memory and in-flight computations,
   * and the S3 objects. The deleted keys are returned; a failed version bump is returned too,
   * after S3 was cleaned, so the caller can answer 503 and be retried.
   */
  invalidate(scope: readonly string[] | 'all'): Promise<{ deletedKeys: string[]; versionError?: unknown }>;
  /** Waits for background S3 writes (shutdown, tests). */
  flush(): Promise<void>;
}

interface MemoryEntry extends StoredDocument {
  /** The version token the copy was made under (report-versions.ts). */
  token: string;
  /** Whether the S3 object is known to exist (then a CDN URL needs no HEAD). */
  inS3: boolean;
}

interface Computed {
  found: boolean;
  document?: StoredDocument;
  /** The background S3 write: true if stored, false if skipped (invalidated meanwhile); rejects if S3 failed. */
  written: Promise<boolean>;
}

export interface ReportCacheDeps {
  store: ReportObjectStore;
  source: ReportSource;
  /** Without versions (no Redis) the memory level is off: nothing could tell it of other replicas' invalidations. */
  versions?: ReportVersions;
  /** Bytes of report text held in memory (0 = no memory level). */
  memoryBytes?: number;
  onOutcome?: (kind: ReportKind, outcome: CacheOutcome) => void;
  /** A background S3 write failed (the answer was already sent; the next miss retries). */
  onWriteError?: (key: string, error: unknown) => void;
  /** Users whose last invalidation is remembered (default 100,000); tests make it small. */
  invalidatedUsersMax?: number;
}

/**
 * A copy older than this is not served even if its token still matches, which bounds how long a
 * version key in Redis must live (report-versions.ts VERSION_TTL_SECONDS is far longer).
 */
const MEMORY_TTL_MS = 60 * 60_000;

/**
 * A day without data is remembered as empty for this long (per process), so asking for it again
 * costs neither an S3 read nor a ClickHouse query. Short because nothing is stored for it in S3:
 * when the ETL fills the day it invalidates the user, and the version bump (report-versions.ts)
 * makes every replica drop the marker at once; the TTL only bounds how long a replica that misses
 * that signal (no Redis, a failed bump) keeps answering 404, at one ETL period's scale or less
 * (jobs run every 15 min). It still caps the ClickHouse work of an empty day at one query a
 * minute per process however often it is asked.
 */
export const EMPTY_RESULT_TTL_MS = 60_000;
/** Markers are tiny (a key and a token); this only bounds a walk through many distinct days. */
const EMPTY_RESULT_MAX_ENTRIES = 50_000;

export function etagOf(body: string): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/**
 * Multi-level read-through cache of report documents: this process's memory (bounded by bytes,
 * checked against the user's version), then S3 (shared by replicas and read by the CDN edge),
 * then ClickHouse. Concurrent misses for one key compute once (per process). An invalidation
 * that lands while a computation runs (seen locally or through the version) keeps the stale
 * result out of memory and S3; the request that asked still gets it.
 */
export function createReportCache(deps: ReportCacheDeps): ReportCache {
  const versions = deps.versions ?? noReportVersions;
  const memoryBytes = deps.memoryBytes ?? 0;
  const memory =
    memoryBytes > 0
      ? new LRUCache<string, MemoryEntry>({
          maxSize: memoryBytes,
          // UTF-16 in the heap: two bytes a character, plus the entry itself.
          sizeCalculation: (entry) => entry.body.length * 2 + 256,
          ttl: MEMORY_TTL_MS,
        })
      : undefined;
  // Kept apart from `memory`: it works with the memory level off (then the TTL alone bounds it).
  const empties = new LRUCache<string, { token: string | undefined }>({ max: EMPTY_RESULT_MAX_ENTRIES, ttl: EMPTY_RESULT_TTL_MS });
  const inFlight = new Map<string, Promise<Computed>>();
  const pendingWrites = new Map<string, Promise<boolean>>();
  // Per user, the sequence number of their last invalidation: a computation stores its result only if
  // the number is unchanged when it ends. Bounded; an evicted user's number raises `evictedFloor`,
  // which every user without an entry reads, so a user's number never goes back down (no A-B-A). An
  // eviction at worst makes a computation in flight skip storing its result.
  let invalidationSeq = 0;
  let evictedFloor = 0;
  const lastInvalidated = new LRUCache<string, number>({
    max: deps.invalidatedUsersMax ?? 100_000,
    dispose: (seq, _userId, reason) => {
      if (reason === 'evict') evictedFloor = Math.max(evictedFloor, seq);
    },
  });
  let globalGeneration = 0;
  const generationOf = (userId: string) => `${globalGeneration}:${lastInvalidated.get(userId) ?? evictedFloor}`;

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

  /** Still the version the computation started under, here and (through Redis) everywhere? */
  async function stillCurrent(userId: string, generation: string, token: string | undefined): Promise<boolean> {
    if (generationOf(userId) !== generation) return false;
    if (token === undefined) return true;
    return (await versions.current(userId)) === token;
  }

  /** Writes to S3 unless invalidated meanwhile; the returned promise rejects if S3 failed (ensure needs to know). */
  function storeInBackground(key: string, userId: string, document: StoredDocument, generation: string, token: string | undefined): Promise<boolean> {
    const write = (async () => {
      if (!(await stillCurrent(userId, generation, token))) return false;
      await deps.store.write(key, document.body);
      const entry = memory?.get(key);
      if (entry && entry.body === document.body) entry.inS3 = true;
      return true;
    })();
    const settled = write
      .catch((error) => {
        deps.onWriteError?.(key, error);
        return false;
      })
      .finally(() => {
        if (pendingWrites.get(key) === settled) pendingWrites.delete(key);
      });
    pendingWrites.set(key, settled);
    return write;
  }

  function computeOnce(request: DocumentRequest, key: string, token: string | undefined): Promise<Computed> {
    const running = inFlight.get(key);
    if (running) return running;
    const generation = generationOf(request.userId);
    const task = (async (): Promise<Computed> => {
      const result = await compute(request);
      if (result === null) {
        if (await stillCurrent(request.userId, generation, token)) empties.set(key, { token });
        return { found: false, written: Promise.resolve(false) };
      }
      const body = JSON.stringify(result);
      const document: StoredDocument = { body, etag: etagOf(body) };
      if (memory && token !== undefined && (await stillCurrent(request.userId, generation, token))) {
        memory.set(key, { ...document, token, inS3: false });
      }
      return { found: true, document, written: storeInBackground(key, request.userId, document, generation, token) };
    })().finally(() => {
      if (inFlight.get(key) === task) inFlight.delete(key);
    });
    inFlight.set(key, task);
    return task;
  }

  /**
   * The user's version token whenever versions are configured, memory level or not: empty-day
   * markers are kept even with REPORT_MEMORY_CACHE_MB=0, and only the token lets another replica's
   * invalidation drop them at once (without it they would answer 404 for up to EMPTY_RESULT_TTL_MS).
   */
  const tokenOf = (userId: string) => (deps.versions ? versions.current(userId) : Promise.resolve(undefined));

  const keyOf = (request: DocumentRequest) =>
    request.kind === 'daily' ? reportKey('daily', request.userId, request.date) : reportKey(request.kind, request.userId);

  function remembered(key: string, token: string | undefined): MemoryEntry | undefined {
    if (!memory || token === undefined) return undefined;
    const entry = memory.get(key);
    if (entry && entry.token !== token) {
      memory.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Known to be empty under this version token (a marker from an older version is dropped). */
  function knownEmpty(key: string, token: string | undefined): boolean {
    const marker = empties.get(key);
    if (!marker) return false;
    if (marker.token !== token) {
      empties.delete(key);
      return false;
    }
    return true;
  }

  function forgetLocally(scope: readonly string[] | 'all') {
    if (scope === 'all') {
      globalGeneration++;
      inFlight.clear();
      memory?.clear();
      empties.clear();
      return;
    }
    for (const userId of scope) {
      lastInvalidated.set(userId, ++invalidationSeq);
      const prefix = userPrefix(userId);
      for (const key of inFlight.keys()) if (key.startsWith(prefix)) inFlight.delete(key);
      if (memory) for (const key of memory.keys()) if (key.startsWith(prefix)) memory.delete(key);
      for (const key of empties.keys()) if (key.startsWith(prefix)) empties.delete(key);
    }
  }

  return {
    async read(request) {
      const key = keyOf(request);
      const token = await tokenOf(request.userId);
      const entry = remembered(key, token);
      if (entry) {
        deps.onOutcome?.(request.kind, 'memory');
        return { found: true, key, document: entry, outcome: 'memory' };
      }
      if (knownEmpty(key, token)) {
        deps.onOutcome?.(request.kind, 'memory');
        return { found: false, key, outcome: 'memory' };
      }
      const stored = await deps.store.read(key);
      if (stored !== null) {
        deps.onOutcome?.(request.kind, 'hit');
        const document: StoredDocument = { body: stored, etag: etagOf(stored) };
        if (memory && token !== undefined) memory.set(key, { ...document, token, inS3: true });
        return { found: true, key, document, outcome: 'hit' };
      }
      deps.onOutcome?.(request.kind, 'miss');
      const computed = await computeOnce(request, key, token);
      return computed.found ? { found: true, key, document: computed.document!, outcome: 'miss' } : { found: false, key, outcome: 'miss' };
    },

    async ensure(request) {
      const key = keyOf(request);
      const token = await tokenOf(request.userId);
      if (remembered(key, token)?.inS3) {
        deps.onOutcome?.(request.kind, 'memory');
        return { found: true, key, outcome: 'hit' };
      }
      if (knownEmpty(key, token)) {
        deps.onOutcome?.(request.kind, 'memory');
        return { found: false, key, outcome: 'hit' };
      }
      await pendingWrites.get(key);
      if (await deps.store.exists(key)) {
        deps.onOutcome?.(request.kind, 'hit');
        return { found: true, key, outcome: 'hit' };
      }
      deps.onOutcome?.(request.kind, 'miss');
      for (let attempt = 0; attempt < 2; attempt++) {
        const current = attempt === 0 || token === undefined ? token : await versions.current(request.userId);
        const computed = await computeOnce(request, key, current);
        if (!computed.found) return { found: false, key, outcome: 'miss' };
        // A URL needs the object: wait for the write; invalidated meanwhile, compute once more.
        if (await computed.written) return { found: true, key, outcome: 'miss' };
        if (await deps.store.exists(key)) return { found: true, key, outcome: 'miss' };
      }
      return { found: true, key, outcome: 'miss' };
    },

    async invalidate(scope) {
      let versionError: unknown;
      try {
        await versions.bump(scope);
      } catch (error) {
        versionError = error;
      }
      forgetLocally(scope);
      // A write that passed its version check before the bump must land before the delete, not after.
      const prefixes = scope === 'all' ? [''] : scope.map(userPrefix);
      await Promise.all([...pendingWrites.entries()].filter(([key]) => prefixes.some((p) => key.startsWith(p))).map(([, write]) => write));
      const deletedKeys: string[] = [];
      for (const prefix of prefixes) deletedKeys.push(...(await deps.store.deletePrefix(prefix)));
      return { deletedKeys, versionError };
    },

    async flush() {
      await Promise.all(pendingWrites.values());
    },
  };
}
