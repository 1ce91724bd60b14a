/**
 * Telemetry ingest throughput: signed batches over HTTP into core's POST /api/telemetry (core started
 * from its real entry file), side by side with its anchor, a bare PostgreSQL COPY of the same rows
 * into the same table over as many connections, measured in the same run.
 *
 *   node_modules/.bin/node bench/ingest.bench.ts [--runtime node|bun] [--seconds 5] [--concurrency 8]
 *                                                [--batch 500] [--rounds 1] [--cpu-prof DIR]
 *
 * Bodies are generated and signed before the clock starts (the client should not be the limit);
 * each worker sends as one chip. Rounds alternate HTTP and COPY; medians are reported. Every row it
 * wrote (chips BENCH-INGEST-…) is deleted afterwards. The last stdout line is one JSON object.
 * `--cpu-prof DIR` starts core under `node --cpu-prof` (Node only) and leaves the profile in DIR.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { deriveDeviceSecret, signTelemetryBody } from '../core/telemetry/device-signature.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { freePort } from '../tests/helpers/free-port.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const positive = (name: string, fallback: number) => {
  const value = Number(option(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const runtime = option('runtime', 'node');
if (runtime !== 'node' && runtime !== 'bun') throw new Error('--runtime must be node or bun');
const seconds = positive('seconds', 5);
const concurrency = Math.floor(positive('concurrency', 8));
const batch = Math.floor(positive('batch', 500));
const rounds = Math.floor(positive('rounds', 1));
const cpuProfDir = option('cpu-prof', '');
/** Events prepared per HTTP round: enough for this rate over --seconds (a round ends early past it). */
const CEILING_EVENTS_PER_S = Number(option('ceiling', '200000'));

const env = loadStackEnv();
const tag = crypto.randomUUID().slice(0, 8);
const COLUMNS = 'event_id, chip_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging';

interface Event {
  event_id: string;
  event_time: string;
  movements: number;
  successful_movements: number;
  response_time_ms: number | null;
  battery_pct: number;
  actuator_temp_c: number;
  error_code: string | null;
  charging: boolean;
}

/** A realistic mix: some idle intervals, a few errors, charging at times. */
function makeEvent(i: number, nowMs: number): Event {
  const movements = i % 7 === 0 ? 0 : 5 + (i % 40);
  return {
    event_id: crypto.randomUUID(),
    event_time: new Date(nowMs - 120_000 - i * 37).toISOString(),
    movements,
    successful_movements: Math.max(0, movements - (i % 3)),
    response_time_ms: movements === 0 ? null : 60 + (i % 90),
    battery_pct: 20 + (i % 80),
    actuator_temp_c: 30 + (i % 150) / 10,
    error_code: i % 53 === 0 ? 'E_GRIP' : null,
    charging: i % 11 === 0,
  };
}

interface Upload {
  chip: string;
  events: Event[];
  body: string;
  timestamp: number;
  signature: string;
}

async function prepareUploads(round: number): Promise<Upload[]> {
  const count = Math.ceil((seconds * CEILING_EVENTS_PER_S) / batch);
  const secrets = new Map<string, Uint8Array>();
  const nowMs = Date.now();
  const uploads: Upload[] = [];
  let n = 0;
  for (let u = 0; u < count; u++) {
    const chip = `BENCH-INGEST-${tag}-${round}-${u % concurrency}`;
    const secret = secrets.get(chip) ?? (await deriveDeviceSecret(env.DEVICE_SECRET_KEY!, chip));
    secrets.set(chip, secret);
    const events = Array.from({ length: batch }, () => makeEvent(n++, nowMs));
    const body = JSON.stringify({ events });
    const timestamp = Math.floor(Date.now() / 1000);
    uploads.push({ chip, events, body, timestamp, signature: await signTelemetryBody(secret, chip, timestamp, body) });
  }
  return uploads;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]! : Number.NaN;
}

function rssMiB(pid: number | undefined): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function httpRound(base: string, uploads: Upload[]) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let accepted = 0;
  /** Uploads core stored (200): the COPY anchor writes exactly these rows. */
  const stored: Upload[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until && next < uploads.length) {
        const upload = uploads[next++]!;
        const t0 = performance.now();
        let status = 0;
        try {
          const response = await fetch(`${base}/api/telemetry`, {
            method: 'POST',
            body: upload.body,
            headers: { 'content-type': 'application/json', 'x-chip-id': upload.chip, 'x-timestamp': String(upload.timestamp), 'x-signature': upload.signature },
          });
          const result = (await response.json()) as { accepted?: number };
          status = response.status;
          if (status === 200) {
            accepted += result.accepted ?? 0;
            stored.push(upload);
          }
        } catch {
          /* status 0: the connection failed */
        }
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { accepted, elapsedS, eventsPerS: accepted / elapsedS, requests: latencies.length, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), statuses, sent: stored };
}

const copyValue = (value: string | number | boolean | null) => (value === null ? '\\N' : String(value));

/**
 * The anchor: the same events (under other chip ids) COPYed straight into raw_telemetry, over as
 * many connections as the HTTP side has clients (one COPY stream per client's chip), so both sides
 * get the same parallelism from PostgreSQL.
 */
async function copyRound(sql: postgres.Sql, sent: Upload[]) {
  const streams = new Map<string, string[]>();
  let rows = 0;
  for (const upload of sent) {
    const chip = upload.chip.replace('BENCH-INGEST-', 'BENCH-INGEST-COPY-').slice(0, 64);
    let text = '';
    for (const e of upload.events) {
      text += [e.event_id, chip, e.event_time, e.movements, e.successful_movements, e.response_time_ms, e.battery_pct, e.actuator_temp_c, e.error_code, e.charging].map(copyValue).join('\t') + '\n';
      rows++;
    }
    const chunks = streams.get(chip) ?? [];
    chunks.push(text);
    streams.set(chip, chunks);
  }
  const started = performance.now();
  await Promise.all(
    [...streams.values()].map(async (chunks) => {
      const copy = await sql.unsafe(`copy public.raw_telemetry (${COLUMNS}) from stdin`).writable();
      await pipeline(Readable.from(chunks), copy);
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  return { rows, elapsedS, rowsPerS: rows / elapsedS };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const command = `node_modules/.bin/node bench/ingest.bench.ts ${argv.join(' ')}`.trim();
  console.log(`command: ${command}`);
  const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: concurrency, onnotice: () => undefined });
  const port = await freePort();
  const entry = runtime === 'bun' ? 'core/serve-bun.ts' : 'core/serve-node.ts';
  const profileArgs = cpuProfDir && runtime === 'node' ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const server = spawn(join(ROOT, 'node_modules', '.bin', runtime), [...profileArgs, entry], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 2, 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const http: Awaited<ReturnType<typeof httpRound>>[] = [];
  const copies: Awaited<ReturnType<typeof copyRound>>[] = [];
  let rssBefore: number | null = null;
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${base}/health/live`)).ok) break;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // The month's partitions exist before either side writes (core would create them on first use).
    await sql`select public.ensure_raw_telemetry_partitions(now() - interval '1 day', now())`;
    // Warm-up: JIT, pool connections, prepared statements.
    await httpRound(base, (await prepareUploads(-1)).slice(0, concurrency * 4));
    rssBefore = rssMiB(server.pid);
    for (let round = 0; round < rounds; round++) {
      const uploads = await prepareUploads(round);
      const h = await httpRound(base, uploads);
      http.push(h);
      const c = await copyRound(sql, h.sent);
      copies.push(c);
      console.log(
        `round ${round + 1}: HTTP ${Math.round(h.eventsPerS).toLocaleString('en-US')} events/s (${h.accepted} events in ${h.elapsedS.toFixed(1)} s, ${h.requests} requests, p50 ${h.p50Ms.toFixed(1)} ms, p99 ${h.p99Ms.toFixed(1)} ms, statuses ${JSON.stringify(h.statuses)}); ` +
          `bare COPY ${Math.round(c.rowsPerS).toLocaleString('en-US')} rows/s (${c.rows} rows in ${c.elapsedS.toFixed(2)} s)`,
      );
    }
  } finally {
    const rssAfter = rssMiB(server.pid);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await sql`delete from public.raw_telemetry where chip_id like ${`BENCH-INGEST-%${tag}%`}`.catch(() => undefined);
    await sql.end();
    if (http.length) {
      const eventsPerS = median(http.map((h) => h.eventsPerS));
      const copyRowsPerS = median(copies.map((c) => c.rowsPerS));
      const result = {
        bench: 'ingest',
        command,
        runtime,
        batch,
        concurrency,
        seconds,
        rounds,
        events_per_s: Math.round(eventsPerS),
        events_per_s_range: [Math.round(Math.min(...http.map((h) => h.eventsPerS))), Math.round(Math.max(...http.map((h) => h.eventsPerS)))],
        p50_ms: Number(median(http.map((h) => h.p50Ms)).toFixed(1)),
        p99_ms: Number(median(http.map((h) => h.p99Ms)).toFixed(1)),
        anchor: `bare PostgreSQL COPY of the same rows (${concurrency} parallel streams)`,
        anchor_rows_per_s: Math.round(copyRowsPerS),
        ratio: Number((eventsPerS / copyRowsPerS).toFixed(2)),
        goal_events_per_s: 100_000,
        server_rss_mib: { before: rssBefore, after: rssAfter },
        statuses: http.map((h) => h.statuses),
      };
      console.log(JSON.stringify(result));
    }
  }
}

await main();
