import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import type { PurgeTarget } from '../../core/reports/cdn-purge.ts';
import { dropLegacyReportObjects } from '../../core/reports/legacy-objects.ts';
import { memoryObjectStore } from './support/memory-object-store.ts';

const REF = 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a';

/** Two folders a page, so the sweep's paging is exercised. */
const bucket = (objects: Record<string, string>) => memoryObjectStore(objects, { pageSize: 2 });

describe('legacy report objects (keyed by username before owner refs)', () => {
  test('drops folders whose documents name the folder as user_id, keeps owner refs and foreign objects', async () => {
    const store = bucket({
      'ivan.petrov/summary/summary.json': JSON.stringify({ user_id: 'ivan.petrov' }),
      'ivan.petrov/daily/2026-11-20/report.json': JSON.stringify({ user_id: 'ivan.petrov' }),
      [`${REF}/summary/summary.json`]: JSON.stringify({ user_id: REF }),
      'edge-workers-node-1a2b3c4d/daily/2026-11-24/report.json': JSON.stringify({ version: 1 }),
      'other/daily/2026-11-24/report.json': 'not json',
    });
    const purges: PurgeTarget[] = [];
    const logger = createMemoryLogger('core');
    const dropped = await dropLegacyReportObjects({ store, logger, cdnPurger: { purge: async (target) => (purges.push(target), { attempted: true, ok: true }) } });
    expect(dropped).toEqual(['ivan.petrov']);
    expect([...store.objects.keys()].sort()).toEqual([`${REF}/summary/summary.json`, 'edge-workers-node-1a2b3c4d/daily/2026-11-24/report.json', 'other/daily/2026-11-24/report.json'].sort());
    expect(purges).toEqual([{ all: true }]);
    // The log line counts; it never repeats the usernames it removed.
    expect(JSON.stringify(logger.lines)).not.toContain('ivan.petrov');
    expect(logger.lines.find((line) => line.event === 'reports.legacy_objects_dropped')).toMatchObject({ owners: 1, deletedObjects: 2 });
  });

  test('a bucket of owner refs only is left as it is, without a purge', async () => {
    const store = bucket({ [`${REF}/list/reports.json`]: JSON.stringify({ user_id: REF }) });
    let purged = false;
    const dropped = await dropLegacyReportObjects({ store, logger: createMemoryLogger('core'), cdnPurger: { purge: async () => ((purged = true), { attempted: true, ok: true }) } });
    expect(dropped).toEqual([]);
    expect(purged).toBe(false);
    expect(store.objects.size).toBe(1);
  });
});
