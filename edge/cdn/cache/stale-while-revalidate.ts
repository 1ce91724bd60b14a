import type { Logger } from '../../../common/log.ts';
import { keepRunning, type WaitUntil } from '../../wait-until.ts';
import { strongEtagOf } from '../etag.ts';
import { OriginUnavailable, type ReportOrigin, type OriginObject } from '../s3-origin.ts';
import type { CachedObject, ObjectCache } from './object-cache.ts';

/**
 * Tiered reads in front of the origin, with named windows counted from when the origin last
 * vouched for the bytes (`storedAtMs`):
 *   fresh            age < freshMs                                → HIT
 *   stale            age < freshMs + staleWhileRevalidateMs       → STALE, one background revalidation
 *   expired          older                                        → revalidate now (conditional GET):
 *                                                                   304 → REVALIDATED, 200 → MISS
 *   origin failing   age < staleIfErrorMs                         → STALE (stale-if-error)
 * Concurrent misses and revalidations of one key share one origin request (coalescing).
 */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED';

export type ReadResult = { found: true; status: CacheStatus; object: CachedObject } | { found: false };

export interface CacheWindows {
  freshMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
}

export interface StaleWhileRevalidateOptions {
  cache: ObjectCache;
  origin: ReportOrigin;
  windows: CacheWindows;
  now: () => number;
  logger: Logger;
}

type OriginOutcome = { kind: 'object'; object: CachedObject; revalidated: boolean } | { kind: 'not_found' };

export function createStaleWhileRevalidate(options: StaleWhileRevalidateOptions) {
  const { cache, origin, windows, now, logger } = options;
  const inFlight = new Map<string, Promise<OriginOutcome>>();
  /** Bumped by every purge: a fetch that started before one must not write its result back. */
  let purgeEpoch = 0;

  const toCached = async (key: string, object: OriginObject): Promise<CachedObject> => ({
    key,
    body: object.body,
    etag: await strongEtagOf(object.body),
    originEtag: object.originEtag,
    contentType: object.contentType,
    lastModified: object.lastModified,
    storedAtMs: now(),
  });

  const fetchFromOrigin = (key: string, previous: CachedObject | undefined): Promise<OriginOutcome> => {
    let flight = inFlight.get(key);
    if (flight) return flight;
    const epoch = purgeEpoch;
    flight = (async (): Promise<OriginOutcome> => {
      const result = await origin.fetch(key, previous?.originEtag ?? null);
      if (result.status === 'not_found') {
        if (previous) await cache.purge({ keys: [key] });
        return { kind: 'not_found' };
      }
      let object: CachedObject;
      let revalidated = false;
      if (result.status === 'not_modified') {
        // 304 without a copy to confirm would be an origin bug; treat it as unavailable.
        if (!previous) throw new OriginUnavailable('origin answered 304 to an unconditional request');
        object = { ...previous, storedAtMs: now() };
        revalidated = true;
      } else {
        object = await toCached(key, result.object);
      }
      if (epoch === purgeEpoch) await cache.put(object);
      return { kind: 'object', object, revalidated };
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, flight);
    return flight;
  };

  return {
    /** `waitUntil` keeps a background revalidation alive past the response (workerd needs it). */
    async read(key: string, waitUntil: WaitUntil = keepRunning): Promise<ReadResult> {
      const cached = await cache.get(key);
      const age = cached ? now() - cached.storedAtMs : Infinity;
      if (cached && age < windows.freshMs) return { found: true, status: 'HIT', object: cached };
      if (cached && age < windows.freshMs + windows.staleWhileRevalidateMs) {
        waitUntil(
          fetchFromOrigin(key, cached).catch((error: unknown) => logger.warn('cdn.revalidate_failed', { key, error: error instanceof Error ? error.message : String(error) })),
        );
        return { found: true, status: 'STALE', object: cached };
      }
      try {
        const outcome = await fetchFromOrigin(key, cached);
        if (outcome.kind === 'not_found') return { found: false };
        return { found: true, status: outcome.revalidated ? 'REVALIDATED' : 'MISS', object: outcome.object };
      } catch (error) {
        if (cached && age < windows.staleIfErrorMs) {
          logger.warn('cdn.stale_if_error', { key, ageMs: age, error: error instanceof Error ? error.message : String(error) });
          return { found: true, status: 'STALE', object: cached };
        }
        throw error;
      }
    },

    notePurge(): void {
      purgeEpoch++;
    },
  };
}

export type StaleWhileRevalidateCache = ReturnType<typeof createStaleWhileRevalidate>;
