import { describe, expect, test } from 'bun:test';
import { QueryClient } from '@tanstack/react-query';
import { replicationLabel } from './ReplicationStatus.tsx';
import { crmDictionaries } from './crm-messages.ts';
import { GIVE_UP_AFTER_MS, LAST_SAVE_KEY, POLL_INTERVAL_MS, pollInterval, rememberSave, replicationView, type SavedChange } from './replication.ts';

const savedAt = 1_000_000;

describe('replication indicator: polling', () => {
  test('polls while the version is not in ClickHouse, stops once it is', () => {
    expect(pollInterval(undefined, savedAt, savedAt)).toBe(POLL_INTERVAL_MS);
    expect(pollInterval({ replicated: false }, savedAt, savedAt + 3_000)).toBe(POLL_INTERVAL_MS);
    expect(pollInterval({ replicated: true, lag_ms: 180 }, savedAt, savedAt + 300)).toBe(false);
  });

  test('is bounded: no poll once the give-up time has passed, whatever the answer', () => {
    expect(pollInterval({ replicated: false }, savedAt, savedAt + GIVE_UP_AFTER_MS - 1)).toBe(POLL_INTERVAL_MS);
    expect(pollInterval({ replicated: false }, savedAt, savedAt + GIVE_UP_AFTER_MS)).toBe(false);
    expect(pollInterval(undefined, savedAt, savedAt + 60_000)).toBe(false);
  });
});

describe('replication indicator: what it says', () => {
  test('the lag is core’s figure, not the browser’s clock', () => {
    expect(replicationView({ replicated: true, lag_ms: 180 }, false, savedAt, savedAt + 9_999)).toEqual({ kind: 'replicated', lagMs: 180 });
    expect(replicationView({ replicated: true, lag_ms: 0 }, false, savedAt, savedAt + 50)).toEqual({ kind: 'replicated', lagMs: 0 });
  });

  test('waiting until the give-up time, then "not in reports yet" (or "could not check" after a failure)', () => {
    expect(replicationView(undefined, false, savedAt, 0)).toEqual({ kind: 'waiting' });
    expect(replicationView({ replicated: false }, false, savedAt, savedAt + GIVE_UP_AFTER_MS - 1)).toEqual({ kind: 'waiting' });
    expect(replicationView({ replicated: false }, false, savedAt, savedAt + GIVE_UP_AFTER_MS)).toEqual({ kind: 'late' });
    expect(replicationView({ replicated: false }, true, savedAt, savedAt + GIVE_UP_AFTER_MS + 5)).toEqual({ kind: 'unknown' });
    // A late answer that says "replicated" still wins.
    expect(replicationView({ replicated: true, lag_ms: 12_000 }, false, savedAt, savedAt + 13_000)).toEqual({ kind: 'replicated', lagMs: 12_000 });
  });

  test('labels in English and Russian', () => {
    const { en, ru } = crmDictionaries;
    expect(replicationLabel({ kind: 'replicated', lagMs: 180 }, en)).toBe('In reports after 180 ms.');
    expect(replicationLabel({ kind: 'replicated', lagMs: 180 }, ru)).toBe('В отчётах через 180 мс.');
    for (const kind of ['waiting', 'late', 'unknown'] as const) {
      expect(replicationLabel({ kind }, en)).not.toBe(replicationLabel({ kind }, ru));
      expect(replicationLabel({ kind }, en).length).toBeGreaterThan(10);
    }
    expect(replicationLabel({ kind: 'late' }, en)).toContain('Not in reports yet');
  });
});

describe('replication indicator: the remembered save', () => {
  test('the latest save replaces the previous one, outside the CRM reads’ key prefix', async () => {
    const client = new QueryClient();
    rememberSave(client, { entity: 'customers', id: 'c1', etag: '"1"', pages: ['c1'] }, 5);
    rememberSave(client, { entity: 'orders', id: 'o1', etag: '"2"', pages: ['o1', 'c1'] }, 7);
    expect(client.getQueryData<SavedChange>(LAST_SAVE_KEY)).toEqual({ entity: 'orders', id: 'o1', etag: '"2"', pages: ['o1', 'c1'], savedAt: 7 });
    await client.invalidateQueries({ queryKey: ['crm'] });
    expect(client.getQueryState(LAST_SAVE_KEY)?.isInvalidated).toBe(false);
    client.clear();
  });
});
