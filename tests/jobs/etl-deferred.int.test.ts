import { describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { runEtl } from '../../jobs/runs/etl-job.ts';
import type { EtlScope } from '../../jobs/etl/scope.ts';
import { readWatermark } from '../../jobs/etl/watermark.ts';
import { createClickHouseRunHistory } from '../../jobs/runs/run-history.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { seedReplica, type ReplicaOwner } from './support/crm-replica.ts';
import { hourStart, SMALL_BATCHES, succeeded, useEtlScratch } from './support/etl-test-bed.ts';
import { comparable, martHours, oracleHours } from './support/mart-oracle.ts';
import { createRecordingInvalidator } from './support/recording-invalidator.ts';
import { HOUR_MS, generateEvents, insertEvents, type RawEvent } from './support/telemetry-data.ts';

// Telemetry of a chip the CRM replica does not know yet (CDC lag, prosthesis registered after the
// device started sending) is deferred in etl_deferred_hours and loads on its own once the replica
// knows the chip. Same isolation as etl.int.test.ts: a scratch telemetry schema and a scratch
// ClickHouse database built from the real migrations; each test has its own source and chips.
const env = loadStackEnv();
const settings = SMALL_BATCHES;

const scratch = useEtlScratch('jobs_etl_def');
const deps = scratch.deps;

interface Fleet {
  tag: string;
  known: string[];
  owners: ReplicaOwner[];
  /** Sends telemetry, but the replica does not know it until `register` is called. */
  late: string;
  scope: EtlScope;
  /** Writes the late chip's customer, model and prosthesis into the replica, as CDC would. */
  register(): Promise<ReplicaOwner>;
}

async function fleet(knownCount: number): Promise<Fleet> {
  const tag = randomUUID().slice(0, 8);
  const known = Array.from({ length: knownCount }, (_, i) => `D${tag}-${i}`);
  const late = `D${tag}-late`;
  const owners = await seedReplica(
    scratch.clickhouse.client,
    known.map((chipId, i) => ({ chipId, username: `def-${tag}-${i}`, region: 'eu' as const, modelName: `Hand ${i}` })),
  );
  return {
    tag,
    known,
    owners,
    late,
    scope: { source: `test:${tag}`, telemetrySchema: scratch.telemetry.schema, chipIds: [...known, late] },
    register: async () => (await seedReplica(scratch.clickhouse.client, [{ chipId: late, username: `def-${tag}-late`, region: 'ru', modelName: 'Hand late' }]))[0]!,
  };
}

interface DeferredRow {
  chip_id: string;
  hour_ms: number;
  attempts: number;
}

async function deferredRows(scope: EtlScope): Promise<DeferredRow[]> {
  const rows = await scratch.telemetry.sql<{ chip_id: string; hour_s: string; attempts: number }[]>`
    select chip_id, extract(epoch from hour)::bigint as hour_s, attempts
    from ${scratch.telemetry.sql(`${scratch.telemetry.schema}.etl_deferred_hours`)} where source = ${scope.source} order by chip_id, hour`;
  return rows.map((row) => ({ chip_id: row.chip_id, hour_ms: Number(row.hour_s) * 1000, attempts: row.attempts }));
}

/** The distinct UTC hours of a chip's events, ascending. */
function hoursOf(events: readonly RawEvent[], chip: string): number[] {
  return [...new Set(events.filter((e) => e.chip_id === chip).map((e) => Math.floor(Date.parse(e.event_time) / HOUR_MS) * HOUR_MS))].sort((a, b) => a - b);
}

describe('ETL: telemetry of chips the CRM replica does not know yet', () => {
  test('is deferred, waits while the chip stays unknown, then loads on its own with no new telemetry; a further run changes nothing', async () => {
    const f = await fleet(2);
    const events = generateEvents({ chips: [...f.known, f.late], startMs: hourStart(30 * HOUR_MS), hours: 12, seed: 31 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const lateHours = hoursOf(events, f.late);
    const lateEvents = events.filter((e) => e.chip_id === f.late).length;
    expect(lateHours.length).toBeGreaterThan(3);

    // 1. The late chip's hours are deferred, not loaded; the watermark moves past them.
    const first = succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    expect(await martHours(scratch.clickhouse.client, [f.late])).toEqual([]);
    expect(comparable(await martHours(scratch.clickhouse.client, f.known))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, f.known)));
    expect(await deferredRows(f.scope)).toEqual(lateHours.map((hour_ms) => ({ chip_id: f.late, hour_ms, attempts: 1 })));
    expect(first).toMatchObject({ deferredHours: lateHours.length, unmatchedRows: lateEvents, unmatchedChips: [f.late], stillDeferredHours: 0, loadedFromDeferral: 0 });
    expect(first.run.note).toContain(`deferred ${lateHours.length} hours (${lateEvents} raw rows) of 1 chip unknown to the CRM replica (e.g. ${f.late})`);
    const watermark = await readWatermark(scratch.telemetry.sql, f.scope);
    expect(Date.parse(watermark!)).toBeGreaterThan(Math.max(...events.map((e) => Date.parse(e.received_at))));
    const [stored] = await createClickHouseRunHistory(scratch.clickhouse.client).list({ limit: 1 });
    expect(stored).toMatchObject({ runId: first.run.runId, error: '', note: first.run.note });

    // 2. Still unknown: nothing loads, every deferred hour gets another attempt.
    const waiting = succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    expect(waiting).toMatchObject({ touchedHours: 0, deferredHours: 0, stillDeferredHours: lateHours.length, loadedFromDeferral: 0 });
    expect(waiting.run.rowsWritten).toBe(0);
    expect(waiting.run.note).toBe(`${lateHours.length} earlier deferred hours still wait for the CRM`);
    expect((await deferredRows(f.scope)).map((row) => row.attempts)).toEqual(lateHours.map(() => 2));

    // 3. CDC brings the prosthesis; the next run, with no new telemetry, loads exactly those hours.
    const knownBefore = await martHours(scratch.clickhouse.client, f.known);
    const owner = await f.register();
    const d = deps();
    const loading = succeeded(await runEtl(d, f.scope, settings, { kind: 'incremental' }));
    expect(loading).toMatchObject({ touchedHours: lateHours.length, deferredHours: 0, stillDeferredHours: 0, loadedFromDeferral: lateHours.length, unmatchedRows: 0 });
    expect(loading.run).toMatchObject({ rowsRead: lateEvents, rowsWritten: lateHours.length, affectedUsers: 1, error: '', note: `${lateHours.length} hours loaded from earlier deferral` });
    const all = [...f.known, f.late];
    expect(comparable(await martHours(scratch.clickhouse.client, all))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, all)));
    const lateMart = await martHours(scratch.clickhouse.client, [f.late]);
    expect(lateMart.map((row) => row.hour * 1000)).toEqual(lateHours);
    for (const row of lateMart) expect(row).toMatchObject({ user_id: owner.username, prosthesis_id: owner.prosthesisId, model_name: 'Hand late', region: 'ru' });
    expect(await martHours(scratch.clickhouse.client, f.known)).toEqual(knownBefore);
    expect(d.invalidator.users()).toEqual(new Set([owner.username]));
    expect(await deferredRows(f.scope)).toEqual([]);

    // 4. Nothing left: another run touches, writes and invalidates nothing.
    const martBefore = await martHours(scratch.clickhouse.client, all);
    const idle = deps();
    const again = succeeded(await runEtl(idle, f.scope, settings, { kind: 'incremental' }));
    expect(again).toMatchObject({ touchedHours: 0, deferredHours: 0, stillDeferredHours: 0, loadedFromDeferral: 0 });
    expect(again.run).toMatchObject({ rowsWritten: 0, error: '', note: '' });
    expect(idle.invalidator.calls).toHaveLength(0);
    expect(await martHours(scratch.clickhouse.client, all)).toEqual(martBefore);
  }, 120_000);

  test('a deferred hour that new telemetry touches again is recomputed once, with every row of the hour', async () => {
    const f = await fleet(1);
    const start = hourStart(20 * HOUR_MS);
    const events = generateEvents({ chips: [...f.known, f.late], startMs: start, hours: 6, seed: 5 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    const lateHours = hoursOf(events, f.late);
    expect((await deferredRows(f.scope)).length).toBe(lateHours.length);

    // The chip becomes known, and late events arrive for one deferred hour and one new hour.
    await f.register();
    const revisited = lateHours[0]!;
    const late = [
      ...generateEvents({ chips: [f.late], startMs: revisited, hours: 1, seed: 77 }).slice(0, 2),
      ...generateEvents({ chips: [f.late], startMs: start + 10 * HOUR_MS, hours: 1, seed: 78 }).slice(0, 1),
    ].map((event) => ({ ...event, received_at: new Date().toISOString() }));
    expect(late).toHaveLength(3);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, late);

    const result = succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    const expectedHours = [...new Set([...lateHours, start + 10 * HOUR_MS])].sort((a, b) => a - b);
    // The revisited hour is in the touched set once (counted once, its rows not doubled).
    expect(result.touchedHours).toBe(expectedHours.length);
    expect(result.loadedFromDeferral).toBe(lateHours.length);
    expect(result.run.rowsRead).toBe(events.filter((e) => e.chip_id === f.late).length + late.length);
    expect((await martHours(scratch.clickhouse.client, [f.late])).map((row) => row.hour * 1000)).toEqual(expectedHours);
    const all = [...f.known, f.late];
    expect(comparable(await martHours(scratch.clickhouse.client, all))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, all)));
    expect(await deferredRows(f.scope)).toEqual([]);
  }, 120_000);

  test('a run killed after recording its deferred hours, before the watermark moved, loses nothing', async () => {
    const f = await fleet(2);
    const events = generateEvents({ chips: [...f.known, f.late], startMs: hourStart(60 * HOUR_MS), hours: 10, seed: 13 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const lateHours = hoursOf(events, f.late);

    const killed = await runEtl(deps(), f.scope, settings, { kind: 'incremental' }, {
      beforeWatermark: () => {
        throw new Error('simulated crash just before the watermark moves');
      },
    });
    expect(killed.status).toBe('failed');
    expect(await readWatermark(scratch.telemetry.sql, f.scope)).toBeNull();
    // Durable before the watermark could move.
    expect(await deferredRows(f.scope)).toEqual(lateHours.map((hour_ms) => ({ chip_id: f.late, hour_ms, attempts: 1 })));

    // The resumed run redoes the window: the same hours, met again, one more attempt each.
    const resumed = succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    expect(resumed.deferredHours).toBe(lateHours.length);
    expect(await readWatermark(scratch.telemetry.sql, f.scope)).not.toBeNull();
    expect(await deferredRows(f.scope)).toEqual(lateHours.map((hour_ms) => ({ chip_id: f.late, hour_ms, attempts: 2 })));

    // A crash after the first batch that deferred hours: also durable, also redone.
    const arriving = generateEvents({ chips: [f.late], startMs: hourStart(90 * HOUR_MS), hours: 3, seed: 14 }).map((e) => ({ ...e, received_at: new Date().toISOString() }));
    expect(arriving.length).toBeGreaterThan(0);
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, arriving);
    const watermark = await readWatermark(scratch.telemetry.sql, f.scope);
    const crashed = await runEtl(deps(), f.scope, settings, { kind: 'incremental' }, {
      afterBatchWritten: () => {
        throw new Error('simulated crash after the first batch');
      },
    });
    expect(crashed.status).toBe('failed');
    expect(await readWatermark(scratch.telemetry.sql, f.scope)).toBe(watermark);
    const arrivingHours = hoursOf(arriving, f.late);
    expect((await deferredRows(f.scope)).filter((row) => arrivingHours.includes(row.hour_ms))).toEqual(arrivingHours.map((hour_ms) => ({ chip_id: f.late, hour_ms, attempts: 1 })));

    const owner = await f.register();
    const d = deps();
    succeeded(await runEtl(d, f.scope, settings, { kind: 'incremental' }));
    const all = [...f.known, f.late];
    expect(comparable(await martHours(scratch.clickhouse.client, all))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, all)));
    expect(await deferredRows(f.scope)).toEqual([]);
    expect(d.invalidator.users()).toEqual(new Set([owner.username]));
  }, 120_000);

  test('deferred rows stay until their owner is invalidated: a failed invalidation keeps them for the next run', async () => {
    const f = await fleet(1);
    const events = generateEvents({ chips: [f.late], startMs: hourStart(8 * HOUR_MS), hours: 4, seed: 9 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    const deferred = await deferredRows(f.scope);
    expect(deferred.length).toBe(hoursOf(events, f.late).length);

    const owner = await f.register();
    const failing = await runEtl(deps(createRecordingInvalidator({ failWith: () => new Error('core is down') })), f.scope, settings, { kind: 'incremental' });
    expect(failing.status).toBe('failed');
    expect((await deferredRows(f.scope)).map((row) => row.hour_ms)).toEqual(deferred.map((row) => row.hour_ms));

    const retried = deps();
    const result = succeeded(await runEtl(retried, f.scope, settings, { kind: 'incremental' }));
    expect(result.loadedFromDeferral).toBe(deferred.length);
    expect(retried.invalidator.users()).toEqual(new Set([owner.username]));
    expect(comparable(await martHours(scratch.clickhouse.client, [f.late]))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, [f.late])));
    expect(await deferredRows(f.scope)).toEqual([]);
  }, 120_000);

  test('a backfill defers the hours of chips still unknown, and clears deferred hours it loads', async () => {
    const f = await fleet(1);
    const start = hourStart(200 * HOUR_MS);
    const events = generateEvents({ chips: [...f.known, f.late], startMs: start, hours: 5, seed: 17 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const backfill = { kind: 'backfill', from: new Date(start), to: new Date(start + 5 * HOUR_MS) } as const;

    const first = succeeded(await runEtl(deps(), f.scope, settings, backfill));
    expect(first.deferredHours).toBe(hoursOf(events, f.late).length);
    expect((await deferredRows(f.scope)).map((row) => row.hour_ms)).toEqual(hoursOf(events, f.late));
    // A backfill leaves the watermark alone.
    expect(await readWatermark(scratch.telemetry.sql, f.scope)).toBeNull();

    await f.register();
    const second = succeeded(await runEtl(deps(), f.scope, settings, backfill));
    expect(second.loadedFromDeferral).toBe(hoursOf(events, f.late).length);
    expect(await deferredRows(f.scope)).toEqual([]);
    const all = [...f.known, f.late];
    expect(comparable(await martHours(scratch.clickhouse.client, all))).toEqual(comparable(await oracleHours(scratch.telemetry.sql, scratch.telemetry.schema, all)));
  }, 120_000);
  test('a customer the replica knows without an owner ref yet is waited for like an unknown chip, then loads under the ref, never under a username', async () => {
    const f = await fleet(1);
    // The late chip's prosthesis and customer are replicated, but the customer's owner_ref is still
    // '' (a CRM row no key holder has given a ref yet, CRM migration 003).
    const [owner] = await seedReplica(scratch.clickhouse.client, [{ chipId: f.late, username: '', region: 'ru', modelName: 'Hand late' }]);
    const events = generateEvents({ chips: [...f.known, f.late], startMs: hourStart(40 * HOUR_MS), hours: 4, seed: 41 });
    await insertEvents(scratch.telemetry.sql, scratch.telemetry.schema, events);
    const lateHours = hoursOf(events, f.late);

    const first = succeeded(await runEtl(deps(), f.scope, settings, { kind: 'incremental' }));
    expect(first).toMatchObject({ deferredHours: lateHours.length, unmatchedChips: [f.late] });
    expect(await martHours(scratch.clickhouse.client, [f.late])).toEqual([]);

    // The ref arrives (a newer version of the customer row, as CDC writes it).
    const ref = 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a';
    const now = Math.floor(Date.now() / 1000);
    await scratch.clickhouse.client.insert({
      table: 'crm_customers',
      format: 'JSONEachRow',
      values: [{ id: owner!.customerId, owner_ref: ref, region: 'ru', created_at: now, updated_at: now, _version: 2, _deleted: 0, _synced_at: now }],
    });
    const d = deps();
    const loading = succeeded(await runEtl(d, f.scope, settings, { kind: 'incremental' }));
    expect(loading).toMatchObject({ loadedFromDeferral: lateHours.length, stillDeferredHours: 0 });
    const lateMart = await martHours(scratch.clickhouse.client, [f.late]);
    expect(lateMart.map((row) => row.hour * 1000)).toEqual(lateHours);
    for (const row of lateMart) expect(row.user_id).toBe(ref);
    expect(d.invalidator.users()).toEqual(new Set([ref]));
  }, 120_000);
});
