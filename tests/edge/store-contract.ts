import { describe, expect, test } from 'bun:test';
import type { EdgeStore } from '../../edge/store/store.ts';

/**
 * The semantics every EdgeStore adapter must share, run against each one: the in-memory store and
 * the Durable Object adapter (unit), Redis (integration). `advance` moves the adapter's clock, or
 * really waits for Redis.
 */
export function runStoreContract(name: string, make: () => { store: EdgeStore; advance: (seconds: number) => Promise<void> }, prefix = `edge-test:${crypto.randomUUID()}:`) {
  describe(`EdgeStore contract: ${name}`, () => {
    const k = (suffix: string) => `${prefix}${suffix}`;

    test('set/get/delete and expiry', async () => {
      const { store, advance } = make();
      expect(await store.get(k('a'))).toBeNull();
      await store.set(k('a'), 'one', 1);
      expect(await store.get(k('a'))).toBe('one');
      await advance(1.2);
      expect(await store.get(k('a'))).toBeNull();
      await store.set(k('b'), 'two', 60);
      await store.delete(k('b'));
      expect(await store.get(k('b'))).toBeNull();
    });

    test('setIfAbsent claims once', async () => {
      const { store } = make();
      expect(await store.setIfAbsent(k('lock'), 'me', 60)).toBe(true);
      expect(await store.setIfAbsent(k('lock'), 'you', 60)).toBe(false);
      expect(await store.get(k('lock'))).toBe('me');
      expect(await store.deleteIfEquals(k('lock'), 'you')).toBe(false);
      expect(await store.deleteIfEquals(k('lock'), 'me')).toBe(true);
      expect(await store.setIfAbsent(k('lock'), 'you', 60)).toBe(true);
      await store.delete(k('lock'));
    });

    test('take hands a value to exactly one of many concurrent callers', async () => {
      const { store } = make();
      await store.set(k('state'), 'attempt', 60);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take(k('state'))));
      expect(results.filter((r) => r === 'attempt')).toHaveLength(1);
      expect(await store.get(k('state'))).toBeNull();
    });

    test('compareAndSet replaces only the expected value', async () => {
      const { store } = make();
      await store.set(k('rec'), 'v1', 60);
      expect(await store.compareAndSet(k('rec'), 'v0', 'x', 60)).toBe(false);
      expect(await store.compareAndSet(k('rec'), 'v1', 'v2', 60)).toBe(true);
      expect(await store.get(k('rec'))).toBe('v2');
      const raced = await Promise.all([store.compareAndSet(k('rec'), 'v2', 'a', 60), store.compareAndSet(k('rec'), 'v2', 'b', 60)]);
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await store.compareAndSet(k('missing'), 'v', 'w', 60)).toBe(false);
      await store.delete(k('rec'));
    });

    test('increment counts within a window that starts at the first hit', async () => {
      const { store, advance } = make();
      expect(await store.increment(k('rate'), 1)).toBe(1);
      expect(await Promise.all([store.increment(k('rate'), 1), store.increment(k('rate'), 1)])).toEqual(expect.arrayContaining([2, 3]));
      await advance(1.2);
      expect(await store.increment(k('rate'), 1)).toBe(1);
      await store.delete(k('rate'));
    });

    test('members: add, list, remove, expire', async () => {
      const { store, advance } = make();
      await store.addMember(k('set'), 'a', 60);
      await store.addMember(k('set'), 'b', 1);
      await store.addMember(k('set'), 'a', 1);
      expect((await store.members(k('set'))).sort()).toEqual(['a', 'b']);
      await store.removeMember(k('set'), 'a');
      expect(await store.members(k('set'))).toEqual(['b']);
      await store.addMember(k('short'), 'x', 1);
      await advance(1.2);
      expect(await store.members(k('short'))).toEqual([]);
      expect(await store.members(k('set'))).toEqual(['b']);
      await store.delete(k('set'));
    });

    test('a bad TTL is a caller bug, not an outage', async () => {
      const { store } = make();
      await expect(store.set(k('x'), 'v', 0)).rejects.toThrow(TypeError);
      await expect(store.set(k('x'), 'v', 1.5)).rejects.toThrow(TypeError);
    });
  });
}
