import { assertTtlSeconds, type EdgeStore } from './store.ts';

interface Slot {
  value: string | Set<string>;
  expiresAtMs: number;
}

/**
 * In-memory store for unit tests only: one process, no persistence. Same semantics as the Redis
 * adapter (atomicity comes free: JavaScript runs one operation to completion at a time).
 */
export function createMemoryStore(now: () => number = Date.now): EdgeStore & { size(): number } {
  const slots = new Map<string, Slot>();

  const live = (key: string): Slot | undefined => {
    const slot = slots.get(key);
    if (slot && slot.expiresAtMs <= now()) {
      slots.delete(key);
      return undefined;
    }
    return slot;
  };
  const text = (key: string): string | null => {
    const value = live(key)?.value;
    return typeof value === 'string' ? value : null;
  };
  const put = (key: string, value: Slot['value'], ttlSeconds: number) => {
    assertTtlSeconds(ttlSeconds);
    slots.set(key, { value, expiresAtMs: now() + ttlSeconds * 1000 });
  };

  return {
    async get(key) {
      return text(key);
    },
    async set(key, value, ttlSeconds) {
      put(key, value, ttlSeconds);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(key)) return false;
      put(key, value, ttlSeconds);
      return true;
    },
    async take(key) {
      const value = text(key);
      if (value !== null) slots.delete(key);
      return value;
    },
    async compareAndSet(key, expected, next, ttlSeconds) {
      if (text(key) !== expected) return false;
      put(key, next, ttlSeconds);
      return true;
    },
    async deleteIfEquals(key, expected) {
      if (text(key) !== expected) return false;
      slots.delete(key);
      return true;
    },
    async delete(key) {
      slots.delete(key);
    },
    async increment(key, windowSeconds) {
      assertTtlSeconds(windowSeconds);
      const slot = live(key);
      const count = (slot && typeof slot.value === 'string' ? Number(slot.value) : 0) + 1;
      slots.set(key, { value: String(count), expiresAtMs: slot?.expiresAtMs ?? now() + windowSeconds * 1000 });
      return count;
    },
    async addMember(key, member, ttlSeconds) {
      assertTtlSeconds(ttlSeconds);
      const slot = live(key);
      const set = slot && slot.value instanceof Set ? slot.value : new Set<string>();
      set.add(member);
      slots.set(key, { value: set, expiresAtMs: Math.max(slot?.expiresAtMs ?? 0, now() + ttlSeconds * 1000) });
    },
    async removeMember(key, member) {
      const slot = live(key);
      if (slot && slot.value instanceof Set) {
        slot.value.delete(member);
        if (slot.value.size === 0) slots.delete(key);
      }
    },
    async members(key) {
      const value = live(key)?.value;
      return value instanceof Set ? [...value] : [];
    },
    size: () => slots.size,
  };
}
