/**
 * CDC end-to-end lag at a sustained change rate: CRM PostgreSQL commit → Debezium → Kafka → the jobs
 * consumer → row stored in ClickHouse.
 *
 *   node_modules/.bin/node bench/cdc-lag.bench.ts [--rate 50] [--seconds 30] [--customers 200]
 *
 * Creates `--customers` bench customers in the CRM, then updates them round-robin at `--rate`
 * changes per second for `--seconds` (one transaction per change). The real consumer runs in a group
 * of its own, started at the topics' ends, writing into a scratch ClickHouse database; for every
 * change of a bench row it stores, lag = (insert done) − (source.ts_ms, the commit time in the CRM).
 * Prints p50/p90/p99/max. Everything it wrote is deleted afterwards.
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
const rate = flag('--rate', 50);
const seconds = flag('--seconds', 30);
const customers = flag('--customers', 200);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const env = loadStackEnv();
console.log(`command: node_modules/.bin/node bench/cdc-lag.bench.ts --rate ${rate} --seconds ${seconds} --customers ${customers}`);
const crm = postgres(env.CRM_DATABASE_URL!, { max: 4, onnotice: () => {} });
const clickhouse = await createScratchClickHouse(env, 'bench_cdc');
const harness = createCdcHarness(env, clickhouse);
const tag = randomUUID().slice(0, 8);
const ids: string[] = [];
try {
  await harness.startAtEnd();
  const lags: number[] = [];
  const ours = new Set<string>();
  let measuring = false;
  const consumer = await harness.start({
    afterApply: ({ changes }) => {
      const now = Date.now();
      for (const change of changes) if (measuring && ours.has(change.id) && change.op === 'u') lags.push(now - change.sourceTsMs);
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
  console.log(
    `cdc lag over ${sorted.length}/${total} changes at ${(total / sendSeconds).toFixed(1)} changes/s for ${sendSeconds.toFixed(1)} s: ` +
      `p50 ${percentile(sorted, 0.5)} ms, p90 ${percentile(sorted, 0.9)} ms, p99 ${percentile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms ` +
      `(CRM commit → stored in ClickHouse; Debezium poll.interval.ms=100)`,
  );
} finally {
  if (ids.length) await crm`delete from crm.customers where id in ${crm(ids)}`;
  await crm.end();
  await harness.close();
  await clickhouse.drop();
}
