/**
 * ETL throughput and memory on generated telemetry (default 10 million rows).
 *
 *   node_modules/.bin/node bench/etl.bench.ts [--rows 10000000] [--customers 1000] [--events-per-hour 12]
 *                                             [--child-heap-mb 48] [--child-semi-space-mb 2] [--keep]
 *                                             [--reuse SCHEMA,DATABASE]
 *
 * 1. Builds a scratch copy of the telemetry schema (the real migration) and a scratch ClickHouse
 *    database (the real migrations): the shared tables are never touched.
 * 2. Generates the CRM and the telemetry with the demo generator's model (demo/crm-data.ts,
 *    demo/telemetry-data.ts; seed 42), seeds the CRM replica in ClickHouse, COPYs the rows in.
 * 3. Runs one full incremental ETL pass (empty watermark → every row) in a child process, so its
 *    peak RSS is the ETL's alone, sampling RSS as the rows stream through; then a small
 *    incremental pass over late events.
 * 4. Checks the mart against the raw table (hours, event counts), prints the figures, drops the
 *    scratch stores (unless --keep).
 *
 * Anchor, measured in the same run just before the ETL: the bare aggregation, i.e. the ETL's own
 * touched-hours collection and hourly aggregate run inside PostgreSQL with nothing fetched (count
 * over it). The ETL cannot beat it; the ratio says how much the rest (transfer, mart rows,
 * ClickHouse inserts) costs. The ETL child runs with V8's heap capped (`--child-heap-mb`, old
 * space; `--child-semi-space-mb`, young generation): otherwise V8 grows lazily into free memory and
 * RSS says little about what the run needs. `--reuse S,D` skips generation and reruns the passes
 * on kept stores (watermark and mart reset first). The last stdout line is one JSON object.
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createLogger } from '../common/log.ts';
import { clickHouseConfigFromEnv, createClickHouseClient, defaultTransport } from '../db/clickhouse/client.ts';
import { planGeneration, type GenerateOptions } from '../demo/generate.ts';
import { copyLine } from '../demo/load-telemetry.ts';
import { daysCovering, generateChipDay, type TelemetryRow } from '../demo/telemetry-data.ts';
import { disabledInvalidator } from '../jobs/invalidation/invalidator.ts';
import { createJobsMetrics } from '../jobs/metrics/jobs-metrics.ts';
import { createActiveRuns } from '../jobs/runs/active-runs.ts';
import { runEtl } from '../jobs/runs/etl-job.ts';
import { collectTouchedHours, dropTouchedHours, hourlyAggregateQuery, prepareEtlSession, resetEtlSession } from '../jobs/etl/hourly-aggregates.ts';
import { EPOCH } from '../jobs/etl/watermark.ts';
import { createClickHouseRunHistory } from '../jobs/runs/run-history.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { createScratchClickHouse, createScratchTelemetry } from '../tests/jobs/support/scratch-stores.ts';

const env = loadStackEnv();
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface PhaseResult {
  label: string;
  rawRows: number;
  martRows: number;
  seconds: number;
  rawRowsPerS: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  maxRssMiB: number;
}

const toMiB = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function etlPhase(schema: string, database: string, label: string): Promise<PhaseResult> {
  const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => {}, connection: { TimeZone: 'UTC' } });
  const clickhouse = createClickHouseClient({ ...clickHouseConfigFromEnv(env, { database }), requestTimeoutMs: 600_000 }, defaultTransport());
  const activeRuns = createActiveRuns();
  let peakRss = process.memoryUsage().rss;
  const rssAtStart = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  // RSS as the mart rows stream out: flat figures at 25 %…100 % are the point.
  const checkpoints: string[] = [];
  let nextCheckpoint = 0.25;
  const started = performance.now();
  const result = await runEtl(
    {
      telemetryDb: sql,
      clickhouse,
      invalidator: disabledInvalidator,
      runHistory: createClickHouseRunHistory(clickhouse),
      logger: createLogger({ service: 'bench', level: 'warn' }),
      now: Date.now,
      newId: () => crypto.randomUUID(),
      metrics: createJobsMetrics(),
      activeRuns,
    },
    { source: 'bench', telemetrySchema: schema },
    { batchRows: 5_000, cursorRows: 2_000, settleSeconds: 0 },
    { kind: 'incremental' },
    {
      afterBatchWritten: () => {
        const progress = activeRuns.list()[0]?.progress;
        if (!progress?.touchedHours) return;
        const done = (progress.rowsWritten ?? 0) / progress.touchedHours;
        while (done >= nextCheckpoint && nextCheckpoint <= 1) {
          const memory = process.memoryUsage();
          checkpoints.push(`${Math.round(nextCheckpoint * 100)}% rss ${mib(memory.rss)} heap ${mib(memory.heapUsed)} ext ${mib(memory.external)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
          nextCheckpoint += 0.25;
        }
      },
    },
  );
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 'succeeded') throw new Error(`ETL ${result.status}: ${'run' in result ? result.run.error : result.reason}`);
  const { run } = result;
  console.log(
    `[${label}] ${fmt(run.rowsRead)} raw rows → ${fmt(run.rowsWritten)} mart rows (${fmt(result.touchedHours)} chip-hours) in ${seconds.toFixed(1)} s: ` +
      `${fmt(run.rowsRead / seconds)} raw rows/s, ${fmt(run.rowsWritten / seconds)} mart rows/s\n` +
      `[${label}] RSS ${mib(rssAtStart)} before the run, peak ${mib(peakRss)} sampled, process maxRSS ${mib(process.resourceUsage().maxRSS * 1024)}; ` +
      `by mart progress: ${checkpoints.join(', ')}`,
  );
  await clickhouse.close();
  await sql.end();
  return {
    label,
    rawRows: run.rowsRead,
    martRows: run.rowsWritten,
    seconds: Number(seconds.toFixed(2)),
    rawRowsPerS: Math.round(run.rowsRead / seconds),
    rssBeforeMiB: toMiB(rssAtStart),
    peakRssMiB: toMiB(peakRss),
    maxRssMiB: toMiB(process.resourceUsage().maxRSS * 1024),
  };
}

/**
 * The anchor: the ETL's touched-hours collection and hourly aggregate inside PostgreSQL, nothing
 * fetched, on a session set up as the ETL's. Seconds.
 */
async function bareAggregation(sql: postgres.Sql, schema: string): Promise<{ collectSeconds: number; aggregateSeconds: number; hours: number }> {
  const db = await sql.reserve();
  try {
    await prepareEtlSession(db);
    const started = performance.now();
    const [bound] = await db<{ now: string }[]>`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`;
    await collectTouchedHours(db, { source: 'bench-anchor', telemetrySchema: schema }, { kind: 'received', from: EPOCH, to: bound!.now });
    const collected = performance.now();
    const [row] = await db<{ hours: number }[]>`select count(*)::int as hours from (${hourlyAggregateQuery(db, { source: 'bench-anchor', telemetrySchema: schema })}) aggregate`;
    const done = performance.now();
    await dropTouchedHours(db);
    await resetEtlSession(db);
    return { collectSeconds: (collected - started) / 1000, aggregateSeconds: (done - collected) / 1000, hours: row!.hours };
  } finally {
    db.release();
  }
}

/** Child mode: only the ETL passes, so the process's peak RSS is theirs. */
async function childMain(): Promise<void> {
  const schema = flag('--schema', '');
  const database = flag('--database', '');
  const result = await etlPhase(schema, database, flag('--label', 'etl'));
  console.log(`PHASE ${JSON.stringify(result)}`);
}

/** `--child-heap-mb N` caps the ETL process's V8 heap: a run that completes under a small cap cannot be growing with volume. */
function runChild(schema: string, database: string, label: string): Promise<PhaseResult> {
  const nodeArgs = [`--max-old-space-size=${Number(flag('--child-heap-mb', '48'))}`, `--max-semi-space-size=${Number(flag('--child-semi-space-mb', '2'))}`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), '--etl-only', '--schema', schema, '--database', database, '--label', label], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      process.stdout.write(chunk.split('\n').filter((line) => !line.startsWith('PHASE ')).join('\n'));
    });
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('PHASE '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('PHASE '.length)) as PhaseResult);
      else reject(new Error(`ETL child exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const rows = Number(flag('--rows', '10000000'));
  const customers = Number(flag('--customers', '1000'));
  const eventsPerHour = Number(flag('--events-per-hour', '12'));
  const keep = argv.includes('--keep');
  console.log(`command: node_modules/.bin/node bench/etl.bench.ts ${argv.join(' ')}`.trim());

  const reuse = flag('--reuse', '');
  if (reuse) {
    const [schema, database] = reuse.split(',');
    if (!schema || !database || !/^[a-z_][a-z0-9_]*$/.test(schema) || !/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error('--reuse takes SCHEMA,DATABASE of kept scratch stores');
    const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => {}, connection: { TimeZone: 'UTC' } });
    const client = createClickHouseClient({ ...clickHouseConfigFromEnv(env, { database }), requestTimeoutMs: 600_000 }, defaultTransport());
    try {
      await sql.unsafe(`delete from ${schema}.etl_watermarks; delete from ${schema}.etl_deferred_hours`);
      await client.command({ query: 'TRUNCATE TABLE report_hourly' });
      await measure(sql, schema, client, database);
    } finally {
      await client.close();
      await sql.end();
    }
    return;
  }

  const telemetry = await createScratchTelemetry(env, 'bench_etl', 2);
  const clickhouse = await createScratchClickHouse(env, 'bench_etl');
  console.log(`scratch stores: telemetry schema ${telemetry.schema}, ClickHouse database ${clickhouse.database}`);
  try {
    const options: GenerateOptions = { seed: 42, customers, days: 1, endDate: new Date().toISOString().slice(0, 10), eventsPerHour, bulkRows: rows, crm: true, telemetry: true, dryRun: false };
    const plan = planGeneration(options);
    console.log(`plan: ${fmt(plan.crm.customers.length)} customers, ${fmt(plan.chips.length)} prostheses, ${plan.days} days × ${eventsPerHour} events/h → ${fmt(rows)} rows`);

    // The CRM replica the ETL joins, as the CDC consumer would have written it.
    const at = (d: Date) => Math.floor(d.getTime() / 1000);
    const base = { _version: 1, _deleted: 0, _synced_at: Math.floor(Date.now() / 1000) };
    await clickhouse.client.insert({ table: 'crm_customers', format: 'JSONEachRow', values: plan.crm.customers.map((c) => ({ id: c.id, owner_ref: c.username, region: c.region, created_at: at(c.createdAt), updated_at: at(c.createdAt), ...base })) });
    await clickhouse.client.insert({ table: 'crm_prosthesis_models', format: 'JSONEachRow', values: plan.crm.models.map((m) => ({ id: m.id, name: m.name, manufacturer: m.manufacturer, kind: m.kind, actuator_count: m.actuatorCount, battery_capacity_mah: m.batteryCapacityMah, weight_g: m.weightG, created_at: 0, updated_at: 0, ...base })) });
    await clickhouse.client.insert({ table: 'crm_prostheses', format: 'JSONEachRow', values: plan.crm.prostheses.map((p) => ({ id: p.id, chip_id: p.chipId, customer_id: p.customerId, model_id: p.modelId, serial_number: p.serialNumber, fitted_at: at(p.fittedAt), status: p.status, created_at: at(p.createdAt), updated_at: at(p.createdAt), ...base })) });

    // Telemetry: COPY in batches of ~250k rows straight into the scratch raw_telemetry.
    const sql = telemetry.sql;
    await sql.unsafe(`select ${telemetry.schema}.ensure_raw_telemetry_partitions($1, $2)`, [new Date(plan.fromMs), new Date(plan.toMs)]);
    const columns = 'event_id, chip_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging';
    const loadStarted = performance.now();
    let generated = 0;
    let lastPrint = 0;
    let chunks: string[] = [];
    let current = '';
    const flush = async () => {
      if (current) chunks.push(current);
      current = '';
      if (chunks.length === 0) return;
      const copy = await sql.unsafe(`copy ${telemetry.schema}.raw_telemetry (${columns}) from stdin`).writable();
      await pipeline(Readable.from(chunks), copy);
      chunks = [];
      const elapsed = performance.now() - loadStarted;
      if (elapsed - lastPrint > 5_000) {
        lastPrint = elapsed;
        console.log(`load: ${fmt(generated)}/${fmt(rows)} rows, ${fmt((generated / elapsed) * 1000)} rows/s`);
      }
    };
    let rowsInBatch = 0;
    const add = (row: TelemetryRow) => {
      if (generated >= rows) return;
      current += copyLine(row);
      if (current.length > 1 << 18) {
        chunks.push(current);
        current = '';
      }
      generated++;
      rowsInBatch++;
    };
    for (const day of daysCovering(plan.fromMs, plan.toMs)) {
      for (const chip of plan.chips) {
        generateChipDay({ seed: options.seed, eventsPerHour }, chip, day, plan.fromMs, plan.toMs, add);
        if (rowsInBatch >= 250_000) {
          await flush();
          rowsInBatch = 0;
        }
      }
      if (generated >= rows) break;
    }
    await flush();
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    console.log(`load: ${fmt(generated)} rows in ${loadSeconds.toFixed(1)} s (${fmt(generated / loadSeconds)} rows/s)`);
    await sql.unsafe(`analyze ${telemetry.schema}.raw_telemetry`);
    await measure(sql, telemetry.schema, clickhouse.client, clickhouse.database);
  } finally {
    if (keep) console.log(`kept: schema ${telemetry.schema}, database ${clickhouse.database}`);
    else await Promise.allSettled([telemetry.drop(), clickhouse.drop()]);
    if (keep) await telemetry.sql.end();
  }
}

/** Anchor, full pass, check, late-events pass; prints the figures and the JSON line. */
async function measure(sql: postgres.Sql, schema: string, client: ReturnType<typeof createClickHouseClient>, database: string): Promise<void> {
  const columns = 'event_id, chip_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging';
  const telemetry = { schema };
  const clickhouse = { client, database };
  {
    const anchor = await bareAggregation(sql, schema);
    const anchorSeconds = anchor.collectSeconds + anchor.aggregateSeconds;
    console.log(`[anchor] bare aggregation in PostgreSQL: touched hours ${anchor.collectSeconds.toFixed(2)} s + hourly aggregate ${anchor.aggregateSeconds.toFixed(2)} s (${fmt(anchor.hours)} hours, nothing fetched)`);
    const full = await runChild(telemetry.schema, clickhouse.database, 'full load');

    // Correctness at volume: every (chip, hour) of the raw table is one mart row with its event count.
    const [raw] = await sql<{ hours: string; events: string }[]>`select count(distinct (chip_id, date_trunc('hour', event_time, 'UTC'))) as hours, count(*) as events from ${sql(`${telemetry.schema}.raw_telemetry`)}`;
    const martResult = await clickhouse.client.query({ query: 'SELECT count() AS hours, sum(event_count) AS events FROM report_hourly FINAL', format: 'JSONEachRow' });
    const [mart] = await martResult.json<{ hours: string; events: string }>();
    console.log(`check: raw ${fmt(Number(raw!.hours))} chip-hours / ${fmt(Number(raw!.events))} events; mart ${fmt(Number(mart!.hours))} rows / ${fmt(Number(mart!.events))} events`);
    if (Number(raw!.hours) !== Number(mart!.hours) || Number(raw!.events) !== Number(mart!.events)) throw new Error('mart does not match the raw table');

    // Late events: 20,000 events of the last day re-sent with new ids (as if a device uploaded a backlog).
    await sql.unsafe(`insert into ${telemetry.schema}.raw_telemetry (${columns})
      select gen_random_uuid(), chip_id, event_time + interval '1 millisecond', movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging
      from ${telemetry.schema}.raw_telemetry where event_time > now() - interval '2 days' limit 20000`);
    const late = await runChild(telemetry.schema, clickhouse.database, 'incremental, 20,000 late events');
    console.log(
      JSON.stringify({
        bench: 'etl',
        command: `node_modules/.bin/node bench/etl.bench.ts ${argv.join(' ')}`.trim(),
        raw_rows: full.rawRows,
        mart_rows: full.martRows,
        seconds: full.seconds,
        raw_rows_per_s: full.rawRowsPerS,
        anchor: 'bare aggregation in PostgreSQL (touched hours + hourly aggregate, nothing fetched)',
        anchor_seconds: Number(anchorSeconds.toFixed(2)),
        anchor_rows_per_s: Math.round(full.rawRows / anchorSeconds),
        ratio: Number((anchorSeconds / full.seconds).toFixed(2)),
        goal_raw_rows_per_s: 1_000_000,
        peak_rss_mib: Math.max(full.peakRssMiB, full.maxRssMiB),
        rss_mib: { before: full.rssBeforeMiB, peak_sampled: full.peakRssMiB, max: full.maxRssMiB },
        goal_rss_mib: 128,
        child_v8: { old_space_mb: Number(flag('--child-heap-mb', '48')), semi_space_mb: Number(flag('--child-semi-space-mb', '2')) },
        check: { raw_hours: Number(raw!.hours), mart_rows: Number(mart!.hours), raw_events: Number(raw!.events), mart_events: Number(mart!.events) },
        late_events: { raw_rows: late.rawRows, mart_rows: late.martRows, seconds: late.seconds },
      }),
    );
  }
}

if (argv.includes('--etl-only')) await childMain();
else await main();
