import { LRUCache } from 'lru-cache';
import type { ContentCoding } from '../compression.ts';
import { purgeCovers, type CachedObject, type ObjectCache } from './object-cache.ts';

interface Slot {
  object: CachedObject;
  variants: Map<string, Uint8Array>;
}

/** Rough per-entry bookkeeping cost, so many tiny objects still count against the budget. */
const ENTRY_OVERHEAD_BYTES = 256;

export interface MemoryLruStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  evictions: number;
}

function sizeOf(slot: Slot): number {
  let size = ENTRY_OVERHEAD_BYTES + slot.object.key.length * 2 + slot.object.body.byteLength;
  for (const variant of slot.variants.values()) size += variant.byteLength;
  return size;
}

/**
 * In-process LRU bounded by bytes (Node, Bun): object + compressed variants + overhead, on
 * lru-cache. It replaced a Map re-inserted on every hit (issue 10 asked to decide by measurement):
 * with 1,000 keys a hit cost 1.0–2.3 µs there (deleting and re-adding Map entries) against
 * 0.3–0.7 µs in lru-cache (a linked list over arrays); with one hot key both ~0.1 µs.
 * An entry alone larger than the budget is not kept at all.
 */
export function createMemoryLruCache(maxBytes: number): ObjectCache & { stats(): MemoryLruStats } {
  let evictions = 0;
  const slots = new LRUCache<string, Slot>({
    maxSize: maxBytes,
    sizeCalculation: sizeOf,
    dispose: (_slot, _key, reason) => {
      if (reason === 'evict') evictions++;
    },
  });

  const touch = (key: string): CachedObject | undefined => slots.get(key)?.object;
  const variantOf = (key: string, etag: string, coding: ContentCoding) => {
    const slot = slots.peek(key);
    return slot && slot.object.etag === etag ? slot.variants.get(coding) : undefined;
  };

  return {
    async get(key) {
      return touch(key);
    },
    peek: touch,
    peekVariant: variantOf,
    async put(object) {
      const previous = slots.peek(object.key);
      // A refreshed entry with the same bytes keeps its compressed variants.
      const variants = previous && previous.object.etag === object.etag ? previous.variants : new Map<string, Uint8Array>();
      slots.set(object.key, { object, variants });
    },
    async getVariant(key, etag, coding) {
      return variantOf(key, etag, coding);
    },
    async putVariant(key, etag, coding: ContentCoding, variant) {
      const slot = slots.peek(key);
      if (!slot || slot.object.etag !== etag) return;
      slot.variants.set(coding, variant);
      // Same slot, new size: lru-cache recounts it (and evicts the oldest if the budget is passed).
      slots.set(key, slot, { noDisposeOnSet: true });
    },
    async purge(target) {
      let dropped = 0;
      for (const key of [...slots.keys()]) if (purgeCovers(target, key) && slots.delete(key)) dropped++;
      return dropped;
    },
    stats: () => ({ entries: slots.size, bytes: slots.calculatedSize, maxBytes, evictions }),
  };
}
