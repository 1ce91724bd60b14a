import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { dropLegacyReportObjects } from '../../core/reports/legacy-objects.ts';
import { createCoreHarness } from './support/harness.ts';

// The start-time sweep against the stack's real S3 server: its first-level listing (Delimiter '/')
// finds the folders, and only a folder cached under a username by the old core goes.
const core = createCoreHarness({ CDN_URL: 'http://127.0.0.1:1' });
const tag = randomUUID().slice(0, 8);
const legacy = `legacy.person.${tag}`;
const foreign = `legacy-foreign-${tag}`;

afterAll(async () => {
  for (const prefix of [legacy, foreign]) await core.deps.reportStore.deletePrefix(`${prefix}/`).catch(() => undefined);
  await core.close();
});

describe('dropping report objects cached under usernames (real S3)', () => {
  test('a username folder of report documents is deleted; a folder of other objects stays', async () => {
    const store = core.deps.reportStore;
    await store.write(`${legacy}/summary/summary.json`, JSON.stringify({ user_id: legacy, active_days: 1 }));
    await store.write(`${legacy}/daily/2026-11-20/report.json`, JSON.stringify({ user_id: legacy, date: '2026-11-20' }));
    await store.write(`${foreign}/daily/2026-11-24/report.json`, JSON.stringify({ version: 1 }));
    expect(await store.listTopLevelSegments()).toEqual(expect.arrayContaining([legacy, foreign]));

    const dropped = await dropLegacyReportObjects({ store, cdnPurger: core.deps.cdnPurger, logger: core.logger });
    expect(dropped).toContain(legacy);
    expect(dropped).not.toContain(foreign);
    expect(await store.exists(`${legacy}/summary/summary.json`)).toBe(false);
    expect(await store.exists(`${legacy}/daily/2026-11-20/report.json`)).toBe(false);
    expect(await store.exists(`${foreign}/daily/2026-11-24/report.json`)).toBe(true);
    // The edge at CDN_URL is unreachable here: the purge is reported in the log line, the sweep still done.
    expect(core.logger.lines.find((line) => line.event === 'reports.legacy_objects_dropped')).toMatchObject({ purgeOk: false });
    expect(JSON.stringify(core.logger.lines)).not.toContain(legacy);
  });
});
