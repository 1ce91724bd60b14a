import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { zeroMartRow, type MartRow } from '../../jobs/etl/mart-rows.ts';
import { retireMovedRows } from '../../jobs/etl/retire-moved-rows.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { martHours } from './support/mart-oracle.ts';
import { createScratchClickHouse, type ScratchClickHouse } from './support/scratch-stores.ts';

// retireMovedRows on a scratch mart (ClickHouse 18.16, the real migrations): it empties exactly the
// live rows of the (prosthesis, hour) pairs a run recomputed that the run did not write itself.
const env = loadStackEnv();
let scratch: ScratchClickHouse;

beforeAll(async () => {
  scratch = await createScratchClickHouse(env, 'jobs_retire');
}, 120_000);

afterAll(async () => {
  await scratch?.drop();
});

const H1 = 1_795_593_600;
const H2 = H1 + 3_600;

function row(userId: string, prosthesisId: string, chipId: string, hour: number, version: number, events = 3): MartRow {
  return { ...zeroMartRow({ userId, prosthesisId, chipId, modelName: 'Hand', region: 'eu', hourSeconds: hour }, version), event_count: events, movements: 10 * events };
}

describe('retiring a previous owner\'s rows', () => {
  test('only the recomputed pairs, only rows this run did not write, only live ones', async () => {
    const [p1, p2] = [randomUUID(), randomUUID()];
    const run = 5;
    await scratch.client.insert({
      table: 'report_hourly',
      format: 'JSONEachRow',
      values: [
        row('old-a', p1, 'C1', H1, 1), // p1@H1 recomputed, not by this run → retired
        row('old-a', p1, 'C1', H2, 1), // p1@H2 not recomputed (only the cross product) → kept
        row('new-b', p1, 'C1', H1, run), // written by this run → kept
        row('old-c', p2, 'C2', H1, 1), // p2@H1 not recomputed → kept
        row('old-d', p2, 'C2', H2, 1),
        row('old-d', p2, 'C2', H2, 2, 0), // already emptied (newest version has no events) → left alone
      ],
    });

    const retired = await retireMovedRows(scratch.client, new Map([[p1, new Set([H1])], [p2, new Set([H2])]]), run);

    expect(retired.map((r) => [r.user_id, r.prosthesis_id, r.hour, r.event_count, r._version])).toEqual([['old-a', p1, H1, 0, run]]);
    const mart = (await martHours(scratch.client, ['C1', 'C2'])).map((r) => [r.user_id, r.chip_id, r.hour, r.event_count]);
    expect(mart.sort()).toEqual(
      [
        ['new-b', 'C1', H1, 3],
        ['old-a', 'C1', H1, 0],
        ['old-a', 'C1', H2, 3],
        ['old-c', 'C2', H1, 3],
        ['old-d', 'C2', H2, 0],
      ].sort(),
    );
  }, 60_000);
});
