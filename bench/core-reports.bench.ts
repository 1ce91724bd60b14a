/**
 * Core reports benchmark, against core started from its real entry file (Node or Bun):
 * - warm summary and warm daily report (cache hit) with wrk at c=1 (p50) and c=32 (req/s), in
 *   rounds alternating with the anchor below, medians printed (req/s range in brackets);
 * - cache miss of the daily report: one client, every request a different uncached day (p50/p99),
 *   beside its anchor measured in the same run: the bare ClickHouse query of the miss over HTTP;
 * - anchor of the warm path in the same run: a bare server of the same runtime (node:http or
 *   Bun.serve) answering the summary's bytes, i.e. this machine's HTTP ceiling at that moment;
 * - core's RSS before, right after the load and after a few idle seconds;
 * - optionally telemetry ingestion (events/s) with --ingest.
 *
 *   node_modules/.bin/node bench/core-reports.bench.ts [--runtime=node|bun] [--seconds=5] [--rounds=3] [--misses=150] [--profile=DIR]
 *     [--version-check=pubsub|per-request] [--ingest]
 *   node_modules/.bin/node bench/core-reports.bench.ts --top=FILE.cpuprofile
 *
 * Needs the stack (ClickHouse, S3, Redis, Keycloak, LDAP, telemetry PostgreSQL) and `wrk` on PATH.
 * Seeds its own mart rows and a temporary person, and removes both (and the cached objects) after.
 * --profile=DIR runs Node with --cpu-prof into DIR (Node only) and prints the profile's top lines.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { deriveDeviceSecret, signTelemetryBody } from '../core/telemetry/device-signature.ts';
import { dailyReportQuery } from '../core/reports/clickhouse-source.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { createCoreHarness, createMartSeeder } from '../tests/core/support/harness.ts';
import { createTestPerson } from '../tests/core/support/keycloak-people.ts';
import { freePort } from '../tests/helpers/free-port.ts';
import { parseWrkOutput } from './lib/wrk.ts';

const run = promisify(execFile);
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const runtime = args.get('runtime') === 'bun' ? 'bun' : 'node';
const seconds = Number(args.get('seconds') ?? 5);
const MISSES = Number(args.get('misses') ?? 150);
const ROUNDS = Math.max(1, Number(args.get('rounds') ?? 3));
const DAYS = Number(args.get('days') ?? 365);
const profileDir = args.get('profile');
const withIngest = args.has('ingest');
const versionCheck = args.get('version-check') === 'per-request' ? 'per-request' : 'pubsub';
const INGEST_BATCH = 500;
const INGEST_CONCURRENCY = 16;

const env = loadStackEnv();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** wrk -t1 (the load generator shares the two cores with the server): req/s and latency percentiles. */
async function wrk(url: string, connections: number, token: string) {
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `authorization: Bearer ${token}`, url], { timeout: (seconds + 30) * 1000 });
  const figures = parseWrkOutput(stdout);
  const errors = /Socket errors: .*/.exec(stdout)?.[0] ?? '';
  return { rps: figures.requestsPerSecond, p50: figures.p50Ms, p99: figures.p99Ms, non2xx: figures.non2xx3xx, errors };
}

type WrkResult = Awaited<ReturnType<typeof wrk>> & { rpsRange?: [number, number] };

/** Median of each figure over the rounds (req/s range kept), so one disturbed round does not decide. */
function medianOf(results: WrkResult[]): WrkResult {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rps = results.map((r) => r.rps);
  return {
    rps: median(rps),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.map((r) => r.errors).filter(Boolean).join('; '),
    rpsRange: [Math.min(...rps), Math.max(...rps)],
  };
}

const fmtWrk = (r: WrkResult) =>
  `${r.rps.toFixed(0).padStart(6)} req/s${r.rpsRange && ROUNDS > 1 ? ` (${r.rpsRange[0].toFixed(0)}–${r.rpsRange[1].toFixed(0)})` : ''}, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}${r.errors ? `, ${r.errors}` : ''}`;

/** Sequential timed calls (c=1): p50/p99 of `call` over `count` runs. */
async function timeSequential(count: number, call: (i: number) => Promise<number>) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const status = await call(i);
    latencies.push(performance.now() - t0);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count, statuses: Object.fromEntries(statuses) };
}
const fmtSeq = (r: Awaited<ReturnType<typeof timeSequential>>) =>
  `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.count} requests, statuses ${JSON.stringify(r.statuses)})`;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Self time per function of a .cpuprofile as a share of the busy (non-idle) time, top `n` lines. */
function profileTop(file: string, n = 25): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? `${frame.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, 'nm/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    self.set(key, (self.get(key) ?? 0) + dt);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
    total += dt;
  });
  const lines = (entries: Map<string, number>, count: number) =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  return ['by area (package, project folder, runtime module):', ...lines(areas, 12), 'by function:', ...lines(self, n)];
}

/** Which package, project folder or runtime module a profile frame belongs to. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?(deps\/)?/, 'node:').split('/')[0]!;
  const local = url.replace(`file://${ROOT}/`, '');
  return local.startsWith('file:') || local.startsWith('wasm') ? local.split(':')[0]! : `project ${local.split('/')[0]}`;
}

/** The runtime's own HTTP server answering fixed bytes: the ceiling core's warm path is compared with. */
async function startBareServer(body: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const code =
    runtime === 'bun'
      ? `Bun.serve({ port: ${port}, hostname: '127.0.0.1', fetch: () => new Response(process.env.BODY, { headers: { 'content-type': 'application/json; charset=utf-8' } }) })`
      : `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }); s.end(process.env.BODY) }).listen(${port}, '127.0.0.1')`;
  const child = spawn(join(ROOT, 'node_modules', '.bin', runtime), ['-e', code], { env: { ...process.env, BODY: body }, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

async function main() {
  const helper = createCoreHarness();
  const seeder = createMartSeeder(env);
  const person = await createTestPerson(env, ['prothetic_user'], 'bench');
  // The mart, S3 and invalidation know the person by owner ref only (docs/data-model.md "Report owner ref").
  const ownerRef = await helper.deps.owners.refOf(person.uid);
  const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => undefined });
  const chipPrefix = `BENCH-${crypto.randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const entry = runtime === 'bun' ? 'core/serve-bun.ts' : 'core/serve-node.ts';
  const runtimeArgs: string[] = [];
  if (profileDir && runtime === 'node') {
    mkdirSync(profileDir, { recursive: true });
    runtimeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  const server = spawn(join(ROOT, 'node_modules', '.bin', runtime), [...runtimeArgs, entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn', REPORT_VERSION_CHECK: versionCheck },
    // Server log lines (warn and above: failed requests with their cause) go to stderr of the bench.
    stdio: ['ignore', 2, 'inherit'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
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
        rows.push({ user_id: ownerRef, hour: `${dates[d]} ${String(h).padStart(2, '0')}:00:00`, movements: 50 + h, successful_movements: 45 + h, errors_total: h % 3, error_codes: h % 3 ? ['E_GRIP'] : [], error_counts: h % 3 ? [h % 3] : [] });
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
    const rssStart = rssMiB(server.pid!);

    // Cache miss, c=1: every request a different uncached day (ClickHouse, then stored in S3),
    // alternating with the bare ClickHouse query of another uncached day (the anchor).
    await helper.deps.reportCache.invalidate([ownerRef]);
    const missCount = Math.min(MISSES, Math.floor(DAYS / 2));
    const chUrl = new URL(env.CLICKHOUSE_URL!);
    chUrl.searchParams.set('database', env.CLICKHOUSE_DATABASE ?? 'default');
    const chAuth = `Basic ${btoa(`${env.CLICKHOUSE_USER ?? 'default'}:${env.CLICKHOUSE_PASSWORD ?? ''}`)}`;
    const missLatencies: number[] = [];
    const bareLatencies: number[] = [];
    const missStatuses = new Map<number, number>();
    for (let i = 0; i < missCount; i++) {
      let t0 = performance.now();
      const response = await fetch(`${base}/api/reports/${dates[2 * i]}`, { headers });
      await response.arrayBuffer();
      missLatencies.push(performance.now() - t0);
      missStatuses.set(response.status, (missStatuses.get(response.status) ?? 0) + 1);
      const day = dates[2 * i + 1]!;
      const query = dailyReportQuery(ownerRef, Date.parse(`${day}T00:00:00Z`));
      t0 = performance.now();
      const bare = await fetch(chUrl, { method: 'POST', headers: { authorization: chAuth }, body: `${query.text} FORMAT JSONEachRow` });
      if (!bare.ok) throw new Error(`bare query failed: ${await bare.text()}`);
      await bare.arrayBuffer();
      bareLatencies.push(performance.now() - t0);
    }
    missLatencies.sort((a, b) => a - b);
    bareLatencies.sort((a, b) => a - b);
    const miss = { p50: percentile(missLatencies, 50), p99: percentile(missLatencies, 99), count: missCount, statuses: Object.fromEntries(missStatuses) };
    const bare = { p50: percentile(bareLatencies, 50), p99: percentile(bareLatencies, 99), count: missCount, statuses: { 200: missCount } };

    // Warm: the summary and one day read over and over.
    for (const path of ['/api/reports/summary', `/api/reports/${dates[0]}`]) await (await fetch(`${base}${path}`, { headers })).arrayBuffer();
    // Rounds alternate core and the bare server, so both see the same background load; medians are printed.
    const summaryBytes = await (await fetch(`${base}/api/reports/summary`, { headers })).text();
    const bareServer = await startBareServer(summaryBytes);
    const rounds: Record<'warmSummary1' | 'warmSummary32' | 'bareSummary1' | 'bareSummary32' | 'warmDaily32' | 'cdnUrl32', WrkResult[]> = {
      warmSummary1: [], warmSummary32: [], bareSummary1: [], bareSummary32: [], warmDaily32: [], cdnUrl32: [],
    };
    let rssAfterLoad = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        rounds.warmSummary1.push(await wrk(`${base}/api/reports/summary`, 1, token));
        rounds.bareSummary1.push(await wrk(bareServer.url, 1, token));
        rounds.warmSummary32.push(await wrk(`${base}/api/reports/summary`, 32, token));
        rounds.bareSummary32.push(await wrk(bareServer.url, 32, token));
        rounds.warmDaily32.push(await wrk(`${base}/api/reports/${dates[0]}`, 32, token));
        rounds.cdnUrl32.push(await wrk(`${base}/api/reports/cdn/${dates[0]}`, 32, token));
        rssAfterLoad = Math.max(rssAfterLoad, rssMiB(server.pid!));
      }
    } finally {
      bareServer.stop();
    }
    const warmSummary1 = medianOf(rounds.warmSummary1);
    const warmSummary32 = medianOf(rounds.warmSummary32);
    const bareSummary1 = medianOf(rounds.bareSummary1);
    const bareSummary32 = medianOf(rounds.bareSummary32);
    const warmDaily32 = medianOf(rounds.warmDaily32);
    const cdnUrl32 = medianOf(rounds.cdnUrl32);
    await new Promise((r) => setTimeout(r, 5000));
    const rssIdle = rssMiB(server.pid!);

    let ingestLine = '';
    if (withIngest) {
      const secrets = new Map<string, Uint8Array>();
      let batches = 0;
      const started = performance.now();
      const until = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: INGEST_CONCURRENCY }, async () => {
          while (performance.now() < until) {
            const chip = `${chipPrefix}-${batches++ % INGEST_CONCURRENCY}`;
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
            const response = await fetch(`${base}/api/telemetry`, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(ts), 'x-signature': await signTelemetryBody(secret, chip, ts, body) },
            });
            await response.arrayBuffer();
          }
        }),
      );
      const elapsedS = (performance.now() - started) / 1000;
      const stored = (await sql`select count(*)::int as n from public.raw_telemetry where chip_id like ${chipPrefix + '%'}`)[0]!.n as number;
      ingestLine = `telemetry ingest, ${INGEST_BATCH}-event batches, c=${INGEST_CONCURRENCY}: ${(stored / elapsedS).toFixed(0)} events/s stored (${stored} events)`;
    }

    const cores = (await import('node:os')).cpus().length;
    console.log(`\ncommand: node_modules/.bin/node bench/core-reports.bench.ts --runtime=${runtime} --seconds=${seconds} --rounds=${ROUNDS} --misses=${MISSES} --days=${DAYS}${profileDir ? ` --profile=${profileDir}` : ''}${versionCheck !== 'pubsub' ? ` --version-check=${versionCheck}` : ''}${withIngest ? ' --ingest' : ''}`);
    console.log(`core under ${runtime} on 127.0.0.1:${port}; wrk -t1 -d${seconds}s, ${ROUNDS} round(s), medians; ClickHouse 18.16, S3, Redis, PostgreSQL 15 on this machine (${cores} cores, shared)`);
    console.log(`warm summary, c=1:                      ${fmtWrk(warmSummary1)}`);
    console.log(`warm summary, c=32:                     ${fmtWrk(warmSummary32)}`);
    console.log(`  anchor: bare ${runtime} server, same bytes, c=1:  ${fmtWrk(bareSummary1)}`);
    console.log(`  anchor: bare ${runtime} server, same bytes, c=32: ${fmtWrk(bareSummary32)}  (core/anchor ${(warmSummary32.rps / bareSummary32.rps).toFixed(2)}×)`);
    console.log(`warm daily report, c=32:                ${fmtWrk(warmDaily32)}`);
    console.log(`daily CDN URL (object exists), c=32:    ${fmtWrk(cdnUrl32)}`);
    console.log(`daily report, cache miss, c=1:          ${fmtSeq(miss)}`);
    console.log(`  anchor: bare ClickHouse miss query:   ${fmtSeq(bare)}`);
    console.log(`core RSS: start ${rssStart.toFixed(0)} MiB, after load (highest) ${rssAfterLoad.toFixed(0)} MiB, after 5 s idle ${rssIdle.toFixed(0)} MiB`);
    if (ingestLine) console.log(ingestLine);
  } finally {
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    await helper.deps.reportCache.invalidate([ownerRef]).catch(() => undefined);
    await helper.deps.reportStore.deletePrefix(`${ownerRef}/`).catch(() => undefined);
    await sql`delete from public.raw_telemetry where chip_id like ${chipPrefix + '%'}`.catch(() => undefined);
    await sql.end();
    await seeder.cleanup();
    await person.remove().catch(() => undefined);
    await helper.close();
  }
  if (profileDir && runtime === 'node') {
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const latest = files.at(-1);
    if (latest) {
      console.log(`\ncpu profile ${join(profileDir, latest)} (self time, % of busy time, whole run):`);
      for (const line of profileTop(join(profileDir, latest))) console.log(line);
    }
  }
}

// --top=FILE.cpuprofile only prints a profile's top lines (e.g. one kept from an earlier run).
const topOf = args.get('top');
if (topOf) for (const line of profileTop(topOf, 30)) console.log(line);
else await main();
