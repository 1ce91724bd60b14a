import type { ContentCoding } from '../compression.ts';
import { purgeCovers, type CachedObject, type ObjectCache } from './object-cache.ts';

interface Slot {
  object: CachedObject;
  variants: Map<string, Uint8Array>;
  bytes: number;
}

/** Rough per-entry bookkeeping cost, so many tiny objects still count against the budget. */
const ENTRY_OVERHEAD_BYTES = 256;

export interface MemoryLruStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  evictions: number;
}

/**
 * In-process LRU bounded by bytes (Node, Bun). A Map keeps insertion order, so re-inserting on
 * each hit makes its first key the least recently used one.
 */
export function createMemoryLruCache(maxBytes: number): ObjectCache & { stats(): MemoryLruStats } {
  const slots = new Map<string, Slot>();
  let bytes = 0;
  let evictions = 0;
  /** The key last moved to the back of the Map (most recently used). */
  let newestKey: string | undefined;

  const sizeOf = (slot: Slot) => {
    let size = ENTRY_OVERHEAD_BYTES + slot.object.key.length * 2 + slot.object.body.byteLength;
    for (const variant of slot.variants.values()) size += variant.byteLength;
    return size;
  };
  const remove = (key: string) => {
    const slot = slots.get(key);
    if (!slot) return false;
    slots.delete(key);
    if (newestKey === key) newestKey = undefined;
    bytes -= slot.bytes;
    return true;
  };
  const resize = (key: string, slot: Slot) => {
    bytes -= slot.bytes;
    slot.bytes = sizeOf(slot);
    bytes += slot.bytes;
    // Anything alone larger than the whole budget is not kept at all.
    if (slot.bytes > maxBytes) remove(key);
    for (const oldest of slots.keys()) {
      if (bytes <= maxBytes) break;
      remove(oldest);
      evictions++;
    }
  };

  const touch = (key: string): CachedObject | undefined => {
    const slot = slots.get(key);
    if (!slot) return undefined;
    // Re-inserting moves the key to the back (most recent); skipped when it already is, as under a hot key.
    if (newestKey !== key) {
      slots.delete(key);
      slots.set(key, slot);
      newestKey = key;
    }
    return slot.object;
  };
  const variantOf = (key: string, etag: string, coding: ContentCoding) => {
    const slot = slots.get(key);
    return slot && slot.object.etag === etag ? slot.variants.get(coding) : undefined;
  };

  return {
    async get(key) {
      return touch(key);
    },
    peek: touch,
    peekVariant: variantOf,
    async put(object) {
      const previous = slots.get(object.key);
      remove(object.key);
      // A refreshed entry with the same bytes keeps its compressed variants.
      const variants = previous && previous.object.etag === object.etag ? previous.variants : new Map<string, Uint8Array>();
      const slot: Slot = { object, variants, bytes: 0 };
      slots.set(object.key, slot);
      newestKey = object.key;
      resize(object.key, slot);
    },
    async getVariant(key, etag, coding) {
      return variantOf(key, etag, coding);
    },
    async putVariant(key, etag, coding: ContentCoding, variant) {
      const slot = slots.get(key);
      if (!slot || slot.object.etag !== etag) return;
      slot.variants.set(coding, variant);
      resize(key, slot);
    },
    async purge(target) {
      let dropped = 0;
      for (const key of [...slots.keys()]) if (purgeCovers(target, key) && remove(key)) dropped++;
      return dropped;
    },
    stats: () => ({ entries: slots.size, bytes, maxBytes, evictions }),
  };
}
