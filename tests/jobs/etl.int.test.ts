import { describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { tryJobLock } from '../../jobs/schedule/job-lock.ts';
import { runEtl, type EtlResult } from '../../jobs/runs/etl-job.ts';
import type { EtlScope } from '../../jobs/etl/scope.ts';
import { readWatermark } from '../../jobs/etl/watermark.ts';
import { createClickHouseRunHistory } from '../../jobs/runs/run-history.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { seedReplica, type ReplicaOwner } from './support/crm-replica.ts';
import { hourStart, SMALL_BATCHES, succeeded, useEtlScratch } from './support/etl-test-bed.ts';
import { comparable, martHours, oracleHours } from './support/mart-oracle.ts';
import { createRecordingInvalidator } from './support/recording-invalidator.ts';
import { HOUR_MS, generateEvents, insertEvents, type RawEvent } from './support/telemetry-data.ts';

// Runs the real ETL against the stack's telemetry PostgreSQL and ClickHouse, in a scratch schema
// (the real telemetry migration) and a scratch ClickHouse database (the real migrations), so the
// shared watermark, raw table and mart are never touched. Each test seeds its own chips.
const env = loadStackEnv();
const settings = SMALL_BATCHES;

const scratch = useEtlScratch('jobs_etl');
const deps = scratch.deps;

/** A fleet of chips with owners in the replica, unique to the calling test. */
async function fleet(size: number): Promise<{ chips: string[]; owners: ReplicaOwner[]; scope: EtlScope }> {
  const tag = randomUUID().slice(0, 8);
  const chips = Array.from({ length: size }, (_, i) => `T${tag}-${i}`);
  const owners = await seedReplica(
    scratch.clickhouse.client,
    chips.map((chipId, i) => ({ chipId, username: `etl-${tag}-${i}`, region: i % 2 ? 'ru' : 'eu', modelName: `Hand ${i}` })),
  );
  // The scratch schema is shared by this file's tests: each one's scope covers only its own chips.
  return { chips, owners, scope: { source: `test:${tag}`, telemetrySchema: scratch.telemetry.schema, chipIds: [...chips, `${chips[0]}-nocrm`] } };
}

describe('ETL: raw telemetry → report_hourly', () => {
  test('the mart equals an independent SQL oracle, with owners joined from the CRM replica', async () => {
    const { chips, owners, scope } = await fleet(3);
    const unknownChip = `${chips[0]}-nocrm`;
    const events = generateEvents({ chips: [...chips, unknownChip], startMs: hourStart(30 * HOUR_MS), hours: 24, seed: 42 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const d = deps();

    const result = succeeded(await runEtl(d, scope, settings, { kind: 'incremental' }));

    const expected = await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, chips);
    const mart = await martHours(scratch.clickhouse.client, chips);
    expect(expected.length).toBeGreaterThan(30);
    expect(comparable(mart)).toEqual(comparable(expected));
    for (const row of mart) {
      const owner = owners.find((o) => o.chipId === row.chip_id)!;
      expect(row).toMatchObject({ user_id: owner.username, prosthesis_id: owner.prosthesisId, model_name: owner.modelName, region: owner.region });
    }
    // The chip the CRM does not know is counted and reported, not loaded: its hours are deferred
    // until the replica knows it (etl-deferred.int.test.ts).
    const unknownEvents = events.filter((e) => e.chip_id === unknownChip);
    expect(result.unmatchedRows).toBe(unknownEvents.length);
    expect(result.unmatchedChips).toEqual([unknownChip]);
    expect(result.deferredHours).toBe(new Set(unknownEvents.map((e) => Math.floor(Date.parse(e.event_time) / HOUR_MS))).size);
    expect(await martHours(scratch.clickhouse.client, [unknownChip])).toEqual([]);
    expect(result.run.rowsRead).toBe(events.length);
    expect(result.run.rowsWritten).toBe(expected.length);
    // Every owner whose hours were written is invalidated, once, in one call.
    expect(d.invalidator.calls).toHaveLength(1);
    expect(d.invalidator.users()).toEqual(new Set(owners.map((o) => o.username)));
    // The watermark moved to the run's bound, past every row.
    const watermark = await readWatermark(scratch.telemetry.sql, scope);
    expect(Date.parse(watermark!)).toBeGreaterThan(Math.max(...events.map((e) => Date.parse(e.received_at))));
    const [stored] = await createClickHouseRunHistory(scratch.clickhouse.client).list({ limit: 1 });
    expect(stored).toMatchObject({ runId: result.run.runId, job: 'etl', status: 'succeeded', rowsRead: events.length });
  }, 120_000);

  test('the same window twice changes nothing; a backfill of the same days rewrites identical values', async () => {
    const { chips, scope } = await fleet(2);
    const start = hourStart(50 * HOUR_MS);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips, startMs: start, hours: 12, seed: 7 }));
    const first = succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
    const before = await martHours(scratch.clickhouse.client, chips);

    const second = deps();
    const again = succeeded(await runEtl(second, scope, settings, { kind: 'incremental' }));
    expect(again.touchedHours).toBe(0);
    expect(again.run.rowsWritten).toBe(0);
    expect(second.invalidator.calls).toHaveLength(0);
    expect(await martHours(scratch.clickhouse.client, chips)).toEqual(before);

    const from = new Date(start - 24 * HOUR_MS);
    const to = new Date(start + 48 * HOUR_MS);
    const backfill = succeeded(await runEtl(deps(), scope, settings, { kind: 'backfill', from, to }));
    expect(backfill.run.rowsWritten).toBe(first.run.rowsWritten);
    const after = await martHours(scratch.clickhouse.client, chips);
    expect(comparable(after)).toEqual(comparable(before));
    expect(after.every((row) => row._version > before[0]!._version)).toBe(true);
    // A backfill never moves the watermark.
    expect(await readWatermark(scratch.telemetry.sql, scope)).toBe((await readWatermark(scratch.telemetry.sql, scope))!);
  }, 120_000);

  test('late events (old event time, new arrival) recompute exactly their hours', async () => {
    const { chips, owners, scope } = await fleet(2);
    const start = hourStart(80 * HOUR_MS);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips, startMs: start, hours: 10, seed: 11 }));
    succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
    const before = await martHours(scratch.clickhouse.client, chips);

    // Two events that happened in hour 3 and one in a new hour 20, arriving only now.
    const lateHour = start + 3 * HOUR_MS;
    const late: RawEvent[] = generateEvents({ chips: [chips[0]!], startMs: lateHour, hours: 1, seed: 99 })
      .slice(0, 2)
      .concat(generateEvents({ chips: [chips[1]!], startMs: start + 20 * HOUR_MS, hours: 1, seed: 5 }).slice(0, 1))
      .map((event) => ({ ...event, received_at: new Date().toISOString() }));
    expect(late).toHaveLength(3);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, late);

    const d = deps();
    const result = succeeded(await runEtl(d, scope, settings, { kind: 'incremental' }));
    expect(result.touchedHours).toBe(2);
    const after = await martHours(scratch.clickhouse.client, chips);
    expect(comparable(after)).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, chips)));
    const changed = after.filter((row) => !before.some((b) => b.chip_id === row.chip_id && b.hour === row.hour && b._version === row._version));
    expect(changed.map((row) => [row.chip_id, row.hour * 1000]).sort()).toEqual(
      [
        [chips[0]!, lateHour],
        [chips[1]!, start + 20 * HOUR_MS],
      ].sort(),
    );
    expect(d.invalidator.users()).toEqual(new Set(owners.map((o) => o.username)));
  }, 120_000);

  test('a run killed after a partial insert leaves the watermark; the next run completes the same mart', async () => {
    const { chips, scope } = await fleet(3);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips, startMs: hourStart(120 * HOUR_MS), hours: 20, seed: 3 }));
    const expected = await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, chips);

    const crashing = deps();
    const killed = await runEtl(crashing, scope, settings, { kind: 'incremental' }, {
      afterBatchWritten: ({ index }) => {
        if (index === 2) throw new Error('simulated crash after the second mart insert');
      },
    });
    expect(killed.status).toBe('failed');
    expect(await readWatermark(scratch.telemetry.sql, scope)).toBeNull();
    const partial = await martHours(scratch.clickhouse.client, chips);
    expect(partial.length).toBe(2 * settings.batchRows);
    expect(crashing.invalidator.calls).toHaveLength(0);

    succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
    expect(comparable(await martHours(scratch.clickhouse.client, chips))).toEqual(comparable(expected));
    expect(await readWatermark(scratch.telemetry.sql, scope)).not.toBeNull();
    const runs = await createClickHouseRunHistory(scratch.clickhouse.client).list({ limit: 50 });
    expect(runs.find((run) => run.runId === (killed as EtlResult).run.runId)).toMatchObject({ status: 'failed', error: expect.stringContaining('simulated crash') });
  }, 120_000);

  test('a failed invalidation fails the run and keeps the watermark, so the next run redoes and re-invalidates', async () => {
    const { chips, owners, scope } = await fleet(1);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips, startMs: hourStart(10 * HOUR_MS), hours: 4, seed: 8 }));
    const failing = deps(createRecordingInvalidator({ failWith: () => new Error('core is down') }));
    const failed = await runEtl(failing, scope, settings, { kind: 'incremental' });
    expect(failed.status).toBe('failed');
    expect(await readWatermark(scratch.telemetry.sql, scope)).toBeNull();
    const retried = deps();
    succeeded(await runEtl(retried, scope, settings, { kind: 'incremental' }));
    expect(retried.invalidator.users()).toEqual(new Set([owners[0]!.username]));
  }, 120_000);

  test('an insert transaction still open holds the window back; its rows load once it commits', async () => {
    const { chips, scope } = await fleet(1);
    const [event] = generateEvents({ chips, startMs: hourStart(5 * HOUR_MS), hours: 1, seed: 1 }).slice(0, 1);
    let commit: () => void = () => {};
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let inserted: () => void = () => {};
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    // As core ingests: received_at defaults to now(), the start of this transaction.
    const { received_at: _ignored, ...withoutReceivedAt } = event!;
    const open = scratch.telemetry.sql.begin(async (tx) => {
      await tx`insert into ${tx(`${scratch.telemetry.schema}.raw_telemetry`)} ${tx(withoutReceivedAt)}`;
      inserted();
      await gate;
    });
    await insertedSignal;
    await Bun.sleep(50);
    const during = succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
    expect(during.run.rowsRead).toBe(0);
    commit();
    await open;
    const after = succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
    expect(after.run.rowsRead).toBe(1);
    expect(comparable(await martHours(scratch.clickhouse.client, chips))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, chips)));
  }, 60_000);

  test('exactly one process acts: a run finding the lock held by another session skips; other sources are not blocked', async () => {
    const { chips, scope } = await fleet(2);
    const other = await fleet(1);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips: [...chips, ...other.chips], startMs: hourStart(40 * HOUR_MS), hours: 6, seed: 21 }));
    const replica = postgres(env.TELEMETRY_DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const held = await tryJobLock(replica, `etl:${scope.source}`);
      expect(held).toBeDefined();
      const skipped = await runEtl(deps(), scope, settings, { kind: 'incremental' });
      expect(skipped.status).toBe('skipped');
      expect(await readWatermark(scratch.telemetry.sql, scope)).toBeNull();
      succeeded(await runEtl(deps(), other.scope, settings, { kind: 'incremental' }));
      await held!.release();
      succeeded(await runEtl(deps(), scope, settings, { kind: 'incremental' }));
      // Two runs started together: one acts, the other skips (it never waits for the lock).
      await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, generateEvents({ chips, startMs: hourStart(2 * HOUR_MS), hours: 1, seed: 22 }).map((e) => ({ ...e, received_at: new Date().toISOString() })));
      const both = await Promise.all([runEtl(deps(), scope, settings, { kind: 'incremental' }), runEtl(deps(), scope, settings, { kind: 'incremental' })]);
      expect(both.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(1);
      expect(comparable(await martHours(scratch.clickhouse.client, chips))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, chips)));
    } finally {
      await replica.end();
    }
  }, 120_000);
});
