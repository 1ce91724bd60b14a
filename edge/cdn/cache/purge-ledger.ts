import { storeKeys, type EdgeStore } from '../../store/store.ts';
import type { PurgeTarget } from './object-cache.ts';

/**
 * Purge marks for caches that cannot list or delete by prefix (the Cache API has no keys() on
 * workerd). A purge records when it happened for the prefix (or everything); an entry stored
 * before a mark that covers its key counts as gone. Marks live in the shared store so every
 * isolate sees them; each isolate re-reads them at most every `refreshMs`, and sees its own
 * purges at once. Marks older than `retainSeconds` (the longest an entry is kept) are dropped.
 */
export interface PurgeMarks {
  all: number | null;
  prefixes: Record<string, number>;
  keys: Record<string, number>;
}

export interface PurgeLedger {
  record(target: PurgeTarget): Promise<void>;
  isPurged(key: string, storedAtMs: number): Promise<boolean>;
}

const EMPTY: PurgeMarks = { all: null, prefixes: {}, keys: {} };

function parseMarks(raw: string | null): PurgeMarks {
  if (!raw) return structuredClone(EMPTY);
  try {
    const parsed = JSON.parse(raw) as PurgeMarks;
    return { all: parsed.all ?? null, prefixes: parsed.prefixes ?? {}, keys: parsed.keys ?? {} };
  } catch {
    return structuredClone(EMPTY);
  }
}

export function createPurgeLedger(options: { store: EdgeStore; now: () => number; retainSeconds: number; refreshMs?: number }): PurgeLedger {
  const { store, now } = options;
  const refreshMs = options.refreshMs ?? 1000;
  const key = storeKeys.cdnPurges();
  let local: PurgeMarks = structuredClone(EMPTY);
  let loadedAtMs = -Infinity;

  const prune = (marks: PurgeMarks): PurgeMarks => {
    const cutoff = now() - options.retainSeconds * 1000;
    const keep = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).filter(([, at]) => at >= cutoff));
    return { all: marks.all !== null && marks.all >= cutoff ? marks.all : null, prefixes: keep(marks.prefixes), keys: keep(marks.keys) };
  };

  const current = async (): Promise<PurgeMarks> => {
    if (now() - loadedAtMs >= refreshMs) {
      local = parseMarks(await store.get(key));
      loadedAtMs = now();
    }
    return local;
  };

  return {
    async record(target) {
      const at = now();
      for (let attempt = 0; attempt < 10; attempt++) {
        const raw = await store.get(key);
        const marks = prune(parseMarks(raw));
        if ('all' in target) marks.all = at;
        else if ('prefixes' in target) for (const prefix of target.prefixes) marks.prefixes[prefix] = at;
        else for (const k of target.keys) marks.keys[k] = at;
        const next = JSON.stringify(marks);
        const written = raw === null ? await store.setIfAbsent(key, next, options.retainSeconds) : await store.compareAndSet(key, raw, next, options.retainSeconds);
        if (written) {
          local = marks;
          loadedAtMs = now();
          return;
        }
      }
      throw new Error('purge ledger: too much contention recording a purge');
    },
    async isPurged(entryKey, storedAtMs) {
      const marks = await current();
      if (marks.all !== null && marks.all >= storedAtMs) return true;
      if ((marks.keys[entryKey] ?? -Infinity) >= storedAtMs) return true;
      for (const [prefix, at] of Object.entries(marks.prefixes)) if (at >= storedAtMs && entryKey.startsWith(prefix)) return true;
      return false;
    },
  };
}
