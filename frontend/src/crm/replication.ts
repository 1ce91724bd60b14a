import type { QueryClient } from '@tanstack/react-query';
import { requestJson } from '../http/request.ts';
import type { ReplicatedEntity } from '../../../core/crm/replication.ts';

/**
 * "In reports after 180 ms": after a save the page asks core when that exact version reached the
 * analytics store (GET /api/crm/replication/{entity}/{id}?since=<version>, read from ClickHouse),
 * polling briefly. The figure is core's (CRM commit → row written by the CDC consumer), never a
 * timer of the browser's.
 */

export type { ReplicatedEntity };

/** A save the operator just made: the record, the version it produced, and the pages that show it. */
export interface SavedChange {
  entity: ReplicatedEntity;
  id: string;
  etag: string;
  /** Ids of the pages (customer or order) where the indicator appears. */
  pages: readonly string[];
  /** Browser clock at the save, only to bound the polling. */
  savedAt: number;
}

export interface ReplicationAnswer {
  replicated: boolean;
  lag_ms?: number;
}

/** Poll this often while waiting: the usual lag is a few hundred ms. */
export const POLL_INTERVAL_MS = 250;
/** Stop asking after this long and say the change is not in reports yet. */
export const GIVE_UP_AFTER_MS = 10_000;

export type ReplicationView =
  | { kind: 'waiting' }
  | { kind: 'replicated'; lagMs: number }
  | { kind: 'late' }
  | { kind: 'unknown' };

/** What to show, from the last answer and when it was received (relative to the save). */
export function replicationView(answer: ReplicationAnswer | undefined, failed: boolean, savedAt: number, answeredAt: number): ReplicationView {
  if (answer?.replicated && typeof answer.lag_ms === 'number') return { kind: 'replicated', lagMs: answer.lag_ms };
  if (answeredAt - savedAt >= GIVE_UP_AFTER_MS) return failed ? { kind: 'unknown' } : { kind: 'late' };
  return { kind: 'waiting' };
}

/** TanStack Query's refetchInterval: keep polling while waiting, stop once answered or given up. */
export function pollInterval(answer: ReplicationAnswer | undefined, savedAt: number, now: number): number | false {
  if (answer?.replicated) return false;
  return now - savedAt >= GIVE_UP_AFTER_MS ? false : POLL_INTERVAL_MS;
}

export function loadReplication(change: Pick<SavedChange, 'entity' | 'id' | 'etag'>, signal?: AbortSignal): Promise<ReplicationAnswer> {
  const since = change.etag.replaceAll('"', '');
  return requestJson<ReplicationAnswer>(`/api/crm/replication/${change.entity}/${encodeURIComponent(change.id)}?since=${encodeURIComponent(since)}`, { signal });
}

/** Outside the `['crm']` prefix on purpose: invalidating the CRM reads must not touch these. */
export const LAST_SAVE_KEY = ['crm-replication', 'last-save'] as const;

export const replicationQueryKey = (change: SavedChange) => ['crm-replication', change.entity, change.id, change.etag] as const;

/** Remembers the operator's latest save; the indicator on the pages it names picks it up. */
export function rememberSave(queryClient: QueryClient, change: Omit<SavedChange, 'savedAt'>, now = Date.now()): void {
  queryClient.setQueryData<SavedChange>(LAST_SAVE_KEY, { ...change, savedAt: now });
}
