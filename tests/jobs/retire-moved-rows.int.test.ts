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
// Owner refs (32 × [a-z2-7]), as the mart keys rows since ClickHouse migration 011.
const [OLD_A, NEW_B, OLD_C, OLD_D] = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(32)) as [string, string, string, string];
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
        row(OLD_A, p1, 'C1', H1, 1), // p1@H1 recomputed, not by this run → retired
        row(OLD_A, p1, 'C1', H2, 1), // p1@H2 not recomputed (only the cross product) → kept
        row(NEW_B, p1, 'C1', H1, run), // written by this run → kept
        row(OLD_C, p2, 'C2', H1, 1), // p2@H1 not recomputed → kept
        row(OLD_D, p2, 'C2', H2, 1),
        row(OLD_D, p2, 'C2', H2, 2, 0), // already emptied (newest version has no events) → left alone
        row('ivan.petrov', p1, 'C1', H1, 1), // keyed by username (migration 011's mutation not done yet) → never re-emitted
      ],
    });

    const retired = await retireMovedRows(scratch.client, new Map([[p1, new Set([H1])], [p2, new Set([H2])]]), run);

    expect(retired.map((r) => [r.user_id, r.prosthesis_id, r.hour, r.event_count, r._version])).toEqual([[OLD_A, p1, H1, 0, run]]);
    const mart = (await martHours(scratch.client, ['C1', 'C2'])).map((r) => [r.user_id, r.chip_id, r.hour, r.event_count]);
    expect(mart.sort()).toEqual(
      [
        [NEW_B, 'C1', H1, 3],
        [OLD_A, 'C1', H1, 0],
        [OLD_A, 'C1', H2, 3],
        [OLD_C, 'C2', H1, 3],
        ['ivan.petrov', 'C1', H1, 3],
        [OLD_D, 'C2', H2, 0],
      ].sort(),
    );
  }, 60_000);
});
