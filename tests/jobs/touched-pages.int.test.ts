import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { pageTouchedHoursOf, prepareEtlSession, resetTouchedHours } from '../../jobs/etl/hourly-aggregates.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// The ETL reads the touched hours of reassigned prostheses back from its session's etl_touched page
// by page (to retire previous owners' rows without holding every hour in memory): every distinct
// (chip, hour) of the asked chips exactly once, in order, whatever the page size, segments merged.
const env = loadStackEnv();
const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: 1, onnotice: () => {} });

afterAll(async () => {
  await sql.end({ timeout: 5 });
});

const HOUR = 3_600;
const T0 = 1_795_593_600;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

describe('pageTouchedHoursOf', () => {
  test('each (chip, hour) of the asked chips once, in order, across pages; other chips and extra segments left out', async () => {
    const db = await sql.reserve();
    try {
      await prepareEtlSession(db);
      await resetTouchedHours(db);
      const pairs: Array<[string, number]> = [];
      for (const chip of ['A1', 'B2', 'C3']) for (let h = 0; h < 7; h++) pairs.push([chip, T0 + h * HOUR]);
      for (const [chip, hour] of pairs) {
        await db`insert into etl_touched values (${chip}, ${iso(hour)}::timestamptz, ${iso(hour)}::timestamptz, ${iso(hour + HOUR)}::timestamptz)`;
      }
      // A cut hour: a second segment of A1's first hour must not repeat that hour.
      await db`update etl_touched set seg_to = ${iso(T0 + 1800)}::timestamptz where chip_id = 'A1' and hour = ${iso(T0)}::timestamptz`;
      await db`insert into etl_touched values ('A1', ${iso(T0)}::timestamptz, ${iso(T0 + 1800)}::timestamptz, ${iso(T0 + HOUR)}::timestamptz)`;

      const expected = pairs.filter(([chip]) => chip !== 'B2').map(([chipId, hourSeconds]) => ({ chipId, hourSeconds }));
      for (const pageSize of [1, 3, 7, 100]) {
        const pages: Array<Array<{ chipId: string; hourSeconds: number }>> = [];
        for await (const page of pageTouchedHoursOf(db, ['C3', 'A1', 'Z9'], pageSize)) pages.push(page);
        expect(pages.flat()).toEqual(expected);
        expect(pages.every((page) => page.length <= pageSize)).toBe(true);
        expect(pages.length).toBe(Math.max(1, Math.ceil(expected.length / pageSize)));
      }
      const none: unknown[] = [];
      for await (const page of pageTouchedHoursOf(db, [], 10)) none.push(page);
      expect(none).toEqual([]);
    } finally {
      db.release();
    }
  });
});
