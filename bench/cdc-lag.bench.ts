/**
 * CDC end-to-end lag at a sustained change rate: CRM PostgreSQL commit → Debezium → Kafka → the jobs
 * consumer → row stored in ClickHouse.
 *
 *   node_modules/.bin/node bench/cdc-lag.bench.ts [--rate 1000] [--seconds 60] [--customers 500] [--connections 16]
 *
 * Creates `--customers` bench customers in the CRM, then updates them round-robin at `--rate`
 * changes per second for `--seconds` (one transaction per change). The real consumer runs in a group
 * of its own, started at the topics' ends, writing into a scratch ClickHouse database; for every
 * change of a bench row it stores, lag = (insert done) − (source.ts_ms, the commit time in the CRM).
 * Prints the lag per percentile (p50, p90, p95, p99, p99.9, max), the p99 of every 10-second
 * window (a backlog that builds up shows as a rising p99), and the change rate the CRM actually
 * took; the last stdout line is one JSON object. Goal: p99 < 500 ms at 1,000 changes/s for 60 s.
 * Everything it wrote is deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { loadStackEnv } from '../stack/lib/env.ts';
import { createCdcHarness, eventually } from '../tests/jobs/support/cdc-harness.ts';
import { createScratchClickHouse } from '../tests/jobs/support/scratch-stores.ts';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const rate = flag('--rate', 1000);
const seconds = flag('--seconds', 60);
const customers = flag('--customers', 500);
// One transaction per change: enough connections that the CRM, not the pool, sets the pace.
const connections = flag('--connections', 16);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const env = loadStackEnv();
const command = `node_modules/.bin/node bench/cdc-lag.bench.ts --rate ${rate} --seconds ${seconds} --customers ${customers} --connections ${connections}`;
console.log(`command: ${command}`);
const crm = postgres(env.CRM_DATABASE_URL!, { max: connections, onnotice: () => {} });
const clickhouse = await createScratchClickHouse(env, 'bench_cdc');
const harness = createCdcHarness(env, clickhouse);
const tag = randomUUID().slice(0, 8);
const ids: string[] = [];
try {
  await harness.startAtEnd();
  const lags: number[] = [];
  /** [seconds since the first change was sent, lag ms] per applied change. */
  const timeline: [number, number][] = [];
  /** The lag in two legs: CRM commit → Kafka append (Debezium), Kafka append → stored (the consumer). */
  const debeziumLegs: number[] = [];
  const consumerLegs: number[] = [];
  let sendStarted = 0;
  const ours = new Set<string>();
  let measuring = false;
  const consumer = await harness.start({
    // A change superseded by a newer change of the same row in the same batch is stored when that
    // one is (its state is in the newer row), so it counts as applied then.
    afterApply: ({ changes, superseded }) => {
      const now = Date.now();
      for (const change of [...changes, ...superseded]) {
        if (!measuring || !ours.has(change.id) || change.op !== 'u') continue;
        lags.push(now - change.sourceTsMs);
        timeline.push([(change.sourceTsMs - sendStarted) / 1000, now - change.sourceTsMs]);
        const appendedMs = Number(change.message.timestamp);
        if (Number.isFinite(appendedMs)) {
          debeziumLegs.push(appendedMs - change.sourceTsMs);
          consumerLegs.push(now - appendedMs);
        }
      }
    },
  });

  const rows = await crm<{ id: string }[]>`insert into crm.customers (username, region, full_name, email)
    select ${`bench-cdc-${tag}-`} || g, 'eu', 'Bench Lag', ${`bench-cdc-${tag}-`} || g || '@example.test' from generate_series(1, ${customers}) g returning id`;
  for (const row of rows) {
    ids.push(row.id);
    ours.add(row.id);
  }
  await eventually('the bench customers in ClickHouse', async () => {
    const result = await clickhouse.client.query({ query: 'SELECT count() AS n FROM crm_customers FINAL', format: 'JSONEachRow' });
    const [row] = await result.json<{ n: string }>();
    return Number(row?.n) >= customers ? true : undefined;
  }, 60_000);

  measuring = true;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  sendStarted = Date.now();
  let sent = 0;
  while (sent < total) {
    // Keep pace with the target rate; a slow round catches up with the next ones.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    const batch: Promise<unknown>[] = [];
    for (; sent < due; sent++) {
      const id = ids[sent % ids.length]!;
      batch.push(crm`update crm.customers set email = ${`bench-${sent}-${tag}@example.test`} where id = ${id}`);
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, 5));
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await eventually(`${total} updates applied`, async () => (lags.length >= total ? true : undefined), 60_000, 100).catch((error) => console.warn(String(error)));
  await consumer.stop();

  const sorted = [...lags].sort((a, b) => a - b);
  const percentiles = { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted.at(-1) ?? Number.NaN };
  const windows: { from_s: number; changes: number; p99_ms: number }[] = [];
  for (let from = 0; from < sendSeconds; from += 10) {
    const inWindow = timeline.filter(([t]) => t >= from && t < from + 10).map(([, lag]) => lag).sort((a, b) => a - b);
    windows.push({ from_s: from, changes: inWindow.length, p99_ms: percentile(inWindow, 0.99) });
  }
  console.log(`cdc lag over ${sorted.length}/${total} changes at ${(total / sendSeconds).toFixed(1)} changes/s for ${sendSeconds.toFixed(1)} s (CRM commit → stored in ClickHouse; Debezium poll.interval.ms=100):`);
  for (const [name, value] of Object.entries(percentiles)) console.log(`  ${name.padEnd(5)} ${value} ms`);
  const legs = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    return { p50: percentile(s, 0.5), p99: percentile(s, 0.99) };
  };
  const breakdown = { commit_to_kafka_ms: legs(debeziumLegs), kafka_to_stored_ms: legs(consumerLegs) };
  console.log(`  legs: commit → Kafka p50 ${breakdown.commit_to_kafka_ms.p50} / p99 ${breakdown.commit_to_kafka_ms.p99} ms; Kafka → stored p50 ${breakdown.kafka_to_stored_ms.p50} / p99 ${breakdown.kafka_to_stored_ms.p99} ms`);
  console.log(`  p99 per 10 s window: ${windows.map((w) => `${w.from_s}s ${w.p99_ms} ms (${w.changes})`).join(', ')}`);
  console.log(
    JSON.stringify({
      bench: 'cdc-lag',
      command,
      target_rate_per_s: rate,
      rate_per_s: Number((total / sendSeconds).toFixed(1)),
      p50_ms: percentiles.p50,
      p90_ms: percentiles.p90,
      p99_ms: percentiles.p99,
      seconds: Number(sendSeconds.toFixed(1)),
      changes_sent: total,
      changes_measured: sorted.length,
      lag_ms: percentiles,
      p99_ms_per_10s: windows,
      legs: breakdown,
      goal: 'p99 < 500 ms at 1,000 changes/s for 60 s',
      goal_met: seconds >= 60 && sorted.length === total && total / sendSeconds >= 0.95 * rate && percentiles.p99 < 500,
    }),
  );
} finally {
  if (ids.length) await crm`delete from crm.customers where id in ${crm(ids)}`;
  await crm.end();
  await harness.close();
  await clickhouse.drop();
}
