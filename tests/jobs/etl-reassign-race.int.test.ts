import { describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { queueReassignedHours } from '../../jobs/etl/reassigned-hours.ts';
import type { EtlScope } from '../../jobs/etl/scope.ts';
import { runEtl } from '../../jobs/runs/etl-job.ts';
import { seedReplica } from './support/crm-replica.ts';
import { hourStart, SMALL_BATCHES, succeeded, useEtlScratch } from './support/etl-test-bed.ts';
import { HOUR_MS, generateEvents, insertEvents } from './support/telemetry-data.ts';

// A reassignment the CDC consumer queues into etl_deferred_hours while a run is under way may name
// hours the run already holds in etl_touched, with owners it looked up before the assignment
// arrived. The run must leave such rows for the next run, which loads them with the new owner.
const scratch = useEtlScratch('jobs_etl_race');

async function deferredCount(scope: EtlScope): Promise<number> {
  const [row] = await scratch.telemetry.sql<{ n: number }[]>`
    select count(*)::int as n from ${scratch.telemetry.sql(`${scratch.telemetry.schema}.etl_deferred_hours`)} where source = ${scope.source}`;
  return row!.n;
}

describe('ETL: reassignment queued during a run', () => {
  test('hours queued (new or already waiting) after the run started survive its clearing; the next run clears them', async () => {
    const tag = randomUUID().slice(0, 8);
    const chip = `Q${tag}`;
    const [owner] = await seedReplica(scratch.clickhouse.client, [{ chipId: chip, username: `race-${tag}`, region: 'eu', modelName: 'Hand race' }]);
    const scope: EtlScope = { source: `test:${tag}`, telemetrySchema: scratch.telemetry.schema, chipIds: [chip] };
    const start = hourStart(10 * HOUR_MS);
    const events = generateEvents({ chips: [chip], startMs: start, hours: 6, seed: 11 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const hours = new Set(events.map((e) => Math.floor(Date.parse(e.event_time) / HOUR_MS))).size;
    expect(hours).toBeGreaterThan(1);
    const change = [{ prosthesisId: owner!.prosthesisId, validFromMs: start }];
    /** Queues the reassignment once, mid-run (after the first batch, owners already looked up). */
    const queueDuringRun = () => {
      let done = false;
      return {
        afterBatchWritten: async () => {
          if (done) return;
          done = true;
          expect(await queueReassignedHours(scratch.telemetry.sql, scope, scratch.clickhouse.client, change)).toBe(hours);
        },
      };
    };

    // 1. New rows queued mid-run for hours this run touched are kept.
    succeeded(await runEtl(scratch.deps(), scope, SMALL_BATCHES, { kind: 'incremental' }, queueDuringRun()));
    expect(await deferredCount(scope)).toBe(hours);

    // 2. The next run requeues them; queued again mid-run (rows already waiting), they are kept again.
    const second = succeeded(await runEtl(scratch.deps(), scope, SMALL_BATCHES, { kind: 'incremental' }, queueDuringRun()));
    expect(second.loadedFromDeferral).toBe(0);
    expect(await deferredCount(scope)).toBe(hours);

    // 3. A run during which nothing is queued loads and clears them.
    const third = succeeded(await runEtl(scratch.deps(), scope, SMALL_BATCHES, { kind: 'incremental' }));
    expect(third.loadedFromDeferral).toBe(hours);
    expect(await deferredCount(scope)).toBe(0);
  }, 120_000);
});
