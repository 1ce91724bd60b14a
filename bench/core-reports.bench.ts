/**
 * Core reports benchmark: daily report cache hits and misses (req/s, p50/p99) and telemetry
 * ingestion (events/s), over HTTP against core started from its real entry file.
 *
 *   node_modules/.bin/node bench/core-reports.bench.ts [--runtime=node|bun] [--seconds=10] [--concurrency=16]
 *
 * Needs the stack (ClickHouse, S3, Keycloak, LDAP, telemetry PostgreSQL). Seeds its own mart rows
 * and a temporary person, and removes both (and the cached objects and telemetry rows) afterwards.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { deriveDeviceSecret, signTelemetryBody } from '../core/telemetry/device-signature.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { ROOT } from '../stack/lib/paths.ts';
import { createCoreHarness, createMartSeeder } from '../tests/core/support/harness.ts';
import { createTestPerson } from '../tests/core/support/keycloak-people.ts';
import { freePort } from '../tests/helpers/free-port.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const runtime = args.get('runtime') === 'bun' ? 'bun' : 'node';
const seconds = Number(args.get('seconds') ?? 10);
const concurrency = Number(args.get('concurrency') ?? 16);
const DAYS = Number(args.get('days') ?? 365);
const INGEST_BATCH = 500;

const env = loadStackEnv();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `concurrency` workers that call `next()` until it returns undefined or time is up. */
async function load(next: () => (() => Promise<Response>) | undefined, untilMs: number) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < untilMs) {
        const call = next();
        if (!call) return;
        const t0 = performance.now();
        let status = 0; // 0 = the connection failed
        try {
          const response = await call();
          await response.arrayBuffer();
          status = response.status;
        } catch {
          /* counted as status 0 */
        }
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, elapsedS, rps: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses: Object.fromEntries(statuses) };
}

const fmt = (r: Awaited<ReturnType<typeof load>>) =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.requests} requests in ${r.elapsedS.toFixed(1)} s, statuses ${JSON.stringify(r.statuses)})`;

async function main() {
  const helper = createCoreHarness();
  const seeder = createMartSeeder(env);
  const person = await createTestPerson(env, ['prothetic_user'], 'bench');
  const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => undefined });
  const chipPrefix = `BENCH-${crypto.randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const entry = runtime === 'bun' ? 'core/serve-bun.ts' : 'core/serve-node.ts';
  const server = spawn(join(ROOT, 'node_modules', '.bin', runtime), [entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    // Server log lines (warn and above: failed requests with their cause) go to stderr of the bench.
    stdio: ['ignore', 2, 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    // Seed DAYS days × 24 hours for the person (what the ETL would have written).
    const start = Date.UTC(2025, 0, 1);
    const dates: string[] = [];
    const rows = [];
    for (let d = 0; d < DAYS; d++) {
      const day = new Date(start + d * 86_400_000);
      dates.push(day.toISOString().slice(0, 10));
      for (let h = 0; h < 24; h++) {
        rows.push({ user_id: person.uid, hour: `${dates[d]} ${String(h).padStart(2, '0')}:00:00`, movements: 50 + h, successful_movements: 45 + h, errors_total: h % 3, error_codes: h % 3 ? ['E_GRIP'] : [], error_counts: h % 3 ? [h % 3] : [] });
      }
    }
    for (let i = 0; i < rows.length; i += 5000) await seeder.insert(rows.slice(i, i + 5000));
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${base}/health/live`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const token = await person.accessToken();
    const headers = { authorization: `Bearer ${token}` };

    // Cache miss: every request a different, uncached day (computed from ClickHouse, stored in S3).
    await helper.deps.reportStore.deletePrefix(`${person.uid}/`);
    let nextDay = 0;
    const miss = await load(() => {
      const date = dates[nextDay++];
      return date ? () => fetch(`${base}/api/reports/${date}`, { headers }) : undefined;
    }, performance.now() + seconds * 1000);

    // Cache hit: one warm day, read over and over.
    await fetch(`${base}/api/reports/${dates[0]}`, { headers });
    const hit = await load(() => () => fetch(`${base}/api/reports/${dates[0]}`, { headers }), performance.now() + seconds * 1000);
    const hitUrl = await load(() => () => fetch(`${base}/api/reports/cdn/${dates[0]}`, { headers }), performance.now() + seconds * 1000);

    // Telemetry ingestion: signed batches of INGEST_BATCH events, one chip per worker.
    const secrets = new Map<string, Uint8Array>();
    let batches = 0;
    const ingest = await load(() => {
      const chip = `${chipPrefix}-${batches++ % concurrency}`;
      return () =>
        (async () => {
          const secret = secrets.get(chip) ?? (await deriveDeviceSecret(env.DEVICE_SECRET_KEY!, chip));
          secrets.set(chip, secret);
          const now = Date.now();
          const events = Array.from({ length: INGEST_BATCH }, (_, i) => ({
            event_id: crypto.randomUUID(),
            event_time: new Date(now - 60_000 - i * 100).toISOString(),
            movements: 10,
            successful_movements: 9,
            response_time_ms: 90,
            battery_pct: 70,
            actuator_temp_c: 36.6,
            error_code: null,
            charging: false,
          }));
          const body = JSON.stringify({ events });
          const ts = Math.floor(now / 1000);
          return fetch(`${base}/api/telemetry`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(ts), 'x-signature': await signTelemetryBody(secret, chip, ts, body) },
          });
        })();
    }, performance.now() + seconds * 1000);
    const stored = (await sql`select count(*)::int as n from public.raw_telemetry where chip_id like ${chipPrefix + '%'}`)[0]!.n as number;

    console.log(`\ncommand: node_modules/.bin/node bench/core-reports.bench.ts --runtime=${runtime} --seconds=${seconds} --concurrency=${concurrency} --days=${DAYS}`);
    console.log(`core under ${runtime} on 127.0.0.1:${port}; ${concurrency} concurrent clients; ClickHouse 18.16, s3rver, PostgreSQL 15 on this machine (${(await import('node:os')).cpus().length} cores)`);
    console.log(`daily report, cache miss (ClickHouse → S3 PUT):  ${fmt(miss)}`);
    console.log(`daily report, cache hit (S3 GET):                 ${fmt(hit)}`);
    console.log(`daily report CDN URL, cache hit (S3 HEAD + sign): ${fmt(hitUrl)}`);
    console.log(`telemetry ingest, ${INGEST_BATCH}-event batches:             ${(stored / ingest.elapsedS).toFixed(0)} events/s stored (${stored} events, ${fmt(ingest)})`);
  } finally {
    server.kill('SIGTERM');
    await helper.deps.reportStore.deletePrefix(`${person.uid}/`).catch(() => undefined);
    await sql`delete from public.raw_telemetry where chip_id like ${chipPrefix + '%'}`.catch(() => undefined);
    await sql.end();
    await seeder.cleanup();
    await person.remove().catch(() => undefined);
    await helper.close();
  }
}

await main();
