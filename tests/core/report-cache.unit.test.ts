import { describe, expect, test } from 'bun:test';
import type { ReportSource } from '../../core/reports/clickhouse-source.ts';
import { createReportCache } from '../../core/reports/report-cache.ts';
import { memoryObjectStore } from './support/memory-object-store.ts';

// Pure logic of the read-through cache; the real S3/ClickHouse path is in tests/core/*.int.test.ts.
const memoryStore = () => memoryObjectStore();

function slowSource(): ReportSource & { calls: number; release: () => void } {
  let release!: () => void;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const source = {
    calls: 0,
    release: () => release(),
    async dailyReport(userId: string, date: string) {
      source.calls++;
      await gate;
      return date === '2026-01-02' ? null : ({ user_id: userId, date, version: source.calls } as never);
    },
    async reportList(userId: string) {
      source.calls++;
      await gate;
      return { user_id: userId, generated_at: '', total_days: 0, days: [] };
    },
    async summary() {
      throw new Error('not used');
    },
    async ping() {},
  };
  void gate;
  return source;
}

describe('report cache', () => {
  test('concurrent misses for one key compute once and store once', async () => {
    const store = memoryStore();
    const source = slowSource();
    const cache = createReportCache({ store, source });
    const request = { kind: 'daily' as const, userId: 'a', date: '2026-01-01', dayStartMs: 0 };
    const pending = Promise.all([cache.read(request), cache.read(request), cache.ensure(request), cache.read(request)]);
    await Bun.sleep(5);
    source.release();
    const results = await pending;
    expect(source.calls).toBe(1);
    expect(store.writes).toBe(1);
    expect(results.every((r) => r.found && r.outcome === 'miss')).toBe(true);
    expect(await cache.read(request)).toMatchObject({ found: true, outcome: 'hit' });
    expect(source.calls).toBe(1);
  });

  test('a day without data is not stored', async () => {
    const store = memoryStore();
    const source = slowSource();
    source.release();
    const cache = createReportCache({ store, source });
    expect(await cache.read({ kind: 'daily', userId: 'a', date: '2026-01-02', dayStartMs: 0 })).toMatchObject({ found: false });
    expect(store.objects.size).toBe(0);
  });

  test('a day without data is remembered: asked again, neither S3 nor ClickHouse is asked (read and ensure)', async () => {
    const store = memoryStore();
    const source = slowSource();
    source.release();
    let s3Reads = 0;
    const countingStore = { ...store, read: (key: string) => (s3Reads++, store.read(key)), exists: (key: string) => (s3Reads++, store.exists(key)) };
    const cache = createReportCache({ store: countingStore, source });
    const empty = { kind: 'daily' as const, userId: 'a', date: '2026-01-02', dayStartMs: 0 };
    expect(await cache.read(empty)).toMatchObject({ found: false, outcome: 'miss' });
    expect([source.calls, s3Reads]).toEqual([1, 1]);
    expect(await cache.read(empty)).toMatchObject({ found: false, outcome: 'memory' });
    expect(await cache.ensure(empty)).toMatchObject({ found: false });
    expect([source.calls, s3Reads]).toEqual([1, 1]);
  });

  test('an empty-day marker is dropped by a local invalidation and by a version bump on another replica', async () => {
    const source = slowSource();
    source.release();
    const tokens = new Map<string, string>();
    const versions = {
      current: async (userId: string) => tokens.get(userId) ?? 'v1',
      bump: async (scope: readonly string[] | 'all') => {
        for (const userId of scope === 'all' ? [...tokens.keys()] : scope) tokens.set(userId, `${tokens.get(userId) ?? 'v1'}+`);
      },
      isSubscribed: () => true,
      close: async () => {},
    };
    const cache = createReportCache({ store: memoryStore(), source, versions, memoryBytes: 1 << 20 });
    const empty = { kind: 'daily' as const, userId: 'a', date: '2026-01-02', dayStartMs: 0 };
    await cache.read(empty);
    await cache.read(empty);
    expect(source.calls).toBe(1);
    await cache.invalidate(['a']);
    expect(await cache.read(empty)).toMatchObject({ outcome: 'miss' });
    expect(source.calls).toBe(2);
    await cache.read(empty);
    expect(source.calls).toBe(2);
    tokens.set('a', 'v2'); // another replica's invalidation, seen only through the version
    expect(await cache.read(empty)).toMatchObject({ outcome: 'miss' });
    expect(source.calls).toBe(3);
    // Another user's invalidation leaves this marker alone.
    await cache.invalidate(['b']);
    expect(await cache.read(empty)).toMatchObject({ outcome: 'memory' });
    expect(source.calls).toBe(3);
  });

  test('with Redis versions but no memory level (REPORT_MEMORY_CACHE_MB=0) an empty-day marker still follows the version', async () => {
    const source = slowSource();
    source.release();
    let token = 'v1';
    const versions = { current: async () => token, bump: async () => {}, isSubscribed: () => true, close: async () => {} };
    const cache = createReportCache({ store: memoryStore(), source, versions, memoryBytes: 0 });
    const empty = { kind: 'daily' as const, userId: 'a', date: '2026-01-02', dayStartMs: 0 };
    expect(await cache.read(empty)).toMatchObject({ found: false, outcome: 'miss' });
    expect(await cache.read(empty)).toMatchObject({ found: false, outcome: 'memory' });
    expect(source.calls).toBe(1);
    token = 'v2'; // another replica's invalidation (the ETL filled the day), seen only through the version
    expect(await cache.read(empty)).toMatchObject({ outcome: 'miss' });
    expect(source.calls).toBe(2);
    token = 'v3';
    expect(await cache.ensure(empty)).toMatchObject({ found: false, outcome: 'miss' });
    expect(source.calls).toBe(3);
  });

  test('an invalidation during a computation keeps its stale result out of the store', async () => {
    const store = memoryStore();
    const source = slowSource();
    const cache = createReportCache({ store, source });
    const pending = cache.read({ kind: 'list', userId: 'a' });
    await Bun.sleep(5);
    await cache.invalidate(['a']);
    source.release();
    expect(await pending).toMatchObject({ found: true, outcome: 'miss' });
    expect(store.objects.size).toBe(0);
  });

  test('the invalidation memory is bounded, and forgetting a user never lets a stale result in', async () => {
    const store = memoryStore();
    const source = slowSource();
    const cache = createReportCache({ store, source, invalidatedUsersMax: 2 });
    // Read for a user never invalidated, invalidate them, then push them out of the bounded memory.
    const pending = cache.read({ kind: 'list', userId: 'a' });
    await Bun.sleep(5);
    await cache.invalidate(['a']);
    await cache.invalidate(['b']);
    await cache.invalidate(['c']);
    source.release();
    expect(await pending).toMatchObject({ found: true, outcome: 'miss' });
    expect(store.objects.size).toBe(0);
    // Later reads are stored as usual.
    expect(await cache.read({ kind: 'list', userId: 'a' })).toMatchObject({ found: true, outcome: 'miss' });
    await Bun.sleep(5);
    expect(store.objects.size).toBe(1);
  });
});
