/**
 * CDN edge benchmark: a cache hit of one 2.9 KB JSON report object, by signed URL, on the CDN edge
 * (Node, Bun, Deno, workerd entries) against nginx 1.22 with proxy_cache in front of the same
 * bytes, measured in the same run with wrk, per encoding (identity and gzip).
 *
 *   node_modules/.bin/node bench/edge-cdn.bench.ts [flags]
 *
 *   --seconds=10            measured seconds per row (after --warmup seconds of the same load)
 *   --warmup=2              warm-up seconds per row (fills the cache, compresses, JIT)
 *   --connections=32        wrk connections (-c); wrk runs with --threads (-t, default 1)
 *   --threads=1
 *   --rounds=1              rounds; each round measures every server, sides alternating; medians kept
 *   --runtimes=node,bun     edge runtimes to measure: any of node, bun, deno, workerd
 *   --encodings=identity,gzip
 *   --workers=auto          EDGE_WORKERS for the Node and Bun entries (auto = one per core; 1 = one process)
 *   --no-nginx              skip the anchor (ratios are then absent)
 *   --nginx-workers=auto    nginx worker_processes
 *   --rss-idle=3            seconds to wait after load before the second RSS reading ("returned")
 *   --cpu-prof=<dir>        run Node with --cpu-prof (profiles written to <dir> when it stops) and Bun
 *                           with --cpu-prof as well; one process (--workers=1) is profiled
 *   --log-level=info        LOG_LEVEL of the edge (info = hits logged as in production, sampled)
 *   --root=<dir>            run the edge entries from another checkout (a `git worktree` of an older
 *                           commit sharing this node_modules), to compare before/after in one run
 *
 * Loopback only, bounded by time. Servers run as child processes from their entry files against the
 * stack's S3 (and Redis for Deno's purge marks); the object is seeded in S3 and removed afterwards.
 * The machine has few cores: wrk, the server and other work share them, so compare the rows of one
 * run (the ratio to nginx), not absolute figures between runs. Before each row the bench checks the
 * answer (status 200, X-Cache-Status HIT on the edge, Content-Encoding, body decodes to the object).
 *
 * Library use: `runEdgeCdnBench(options)` returns the same result object. The last line printed by
 * the CLI is that object as JSON: { rows: [{ server, encoding, requestsPerSecond, p50Ms, p99Ms,
 * vsNginx, rssAfterLoadMiB, rssAfterIdleMiB }], nginx: { identity, gzip }, command, machine }.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { signReportUrl } from '../common/cdn/signing.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { paths, ROOT } from '../tools/kit/paths.ts';
import { localS3Client } from '../stack/services/s3.ts';
import { s3Settings } from '../stack/services/s3-server.ts';
import { freePort } from '../tests/helpers/free-port.ts';

export type EdgeBenchRuntime = 'node' | 'bun' | 'deno' | 'workerd';
export type EdgeBenchEncoding = 'identity' | 'gzip';

export interface EdgeCdnBenchOptions {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  threads: number;
  rounds: number;
  runtimes: EdgeBenchRuntime[];
  encodings: EdgeBenchEncoding[];
  workers: string;
  nginx: boolean;
  nginxWorkers: string;
  rssIdleSeconds: number;
  cpuProfDir?: string;
  logLevel: string;
  /** Checkout whose edge entries run (default: this one). */
  root?: string;
  log?: (line: string) => void;
}

export interface EdgeCdnRow {
  server: string;
  encoding: EdgeBenchEncoding;
  requestsPerSecond: number;
  /** Per-round figures, so the spread shows. */
  rounds: number[];
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  bytesPerResponse: number;
  vsNginx: number | null;
  rssAfterLoadMiB: number | null;
  rssAfterIdleMiB: number | null;
  processes: number;
}

export interface EdgeCdnBenchResult {
  objectBytes: number;
  rows: EdgeCdnRow[];
  nginx: Partial<Record<EdgeBenchEncoding, number>>;
  command: string;
  machine: string;
  load: string;
}

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const WORKERD_HOST = join(ROOT, 'tests', 'edge', 'contract', 'workerd-host.ts');

export function defaultEdgeCdnBenchOptions(): EdgeCdnBenchOptions {
  return {
    seconds: 10,
    warmupSeconds: 2,
    connections: 32,
    threads: 1,
    rounds: 1,
    runtimes: ['node', 'bun'],
    encodings: ['identity', 'gzip'],
    workers: 'auto',
    nginx: true,
    nginxWorkers: 'auto',
    rssIdleSeconds: 3,
    logLevel: 'info',
  };
}

function parseCli(argv: string[]): EdgeCdnBenchOptions {
  const options = defaultEdgeCdnBenchOptions();
  const list = <T extends string>(value: string, allowed: readonly T[], flag: string): T[] => {
    const items = value.split(',').map((item) => item.trim()).filter(Boolean);
    const bad = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (bad.length > 0 || items.length === 0) throw new Error(`--${flag}: expected some of ${allowed.join(',')}, got ${value}`);
    return items as T[];
  };
  const number = (value: string, flag: string, min: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${flag}: expected a number >= ${min}, got ${value}`);
    return n;
  };
  for (const arg of argv) {
    const [flag, value = ''] = arg.replace(/^--/, '').split(/=(.*)/s, 2) as [string, string?];
    switch (flag) {
      case 'seconds': options.seconds = number(value, flag, 1); break;
      case 'warmup': options.warmupSeconds = number(value, flag, 0); break;
      case 'connections': options.connections = number(value, flag, 1); break;
      case 'threads': options.threads = number(value, flag, 1); break;
      case 'rounds': options.rounds = number(value, flag, 1); break;
      case 'runtimes': options.runtimes = list(value, ['node', 'bun', 'deno', 'workerd'] as const, flag); break;
      case 'encodings': options.encodings = list(value, ['identity', 'gzip'] as const, flag); break;
      case 'workers': options.workers = value; break;
      case 'no-nginx': options.nginx = false; break;
      case 'nginx-workers': options.nginxWorkers = value; break;
      case 'rss-idle': options.rssIdleSeconds = number(value, flag, 0); break;
      case 'cpu-prof': options.cpuProfDir = value; break;
      case 'log-level': options.logLevel = value; break;
      case 'root': options.root = value; break;
      default: throw new Error(`edge-cdn.bench: unknown flag ${arg} (see the comment at the top of the file)`);
    }
  }
  if (options.cpuProfDir) options.workers = '1';
  return options;
}

interface Server {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident memory of a process and all its descendants (cluster workers, workerd under Miniflare). */
function treeRssMiB(rootPid: number): { mib: number; processes: number } | null {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      rss.set(Number(entry), kb);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone */
    }
  }
  if (!rss.has(rootPid)) return null;
  let kb = 0;
  let processes = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    kb += rss.get(pid) ?? 0;
    processes++;
    queue.push(...(children.get(pid) ?? []));
  }
  return { mib: Math.round((kb / 1024) * 10) / 10, processes };
}

function startChild(command: string, argv: string[], env: Record<string, string | undefined>, log: (line: string) => void, cwd = ROOT): ChildProcess {
  const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code && code !== 0 && signal === null) log(`  ${command} exited ${code}: ${tail.slice(-1500)}`);
  });
  return child;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  }).then(() => {
    // A grandchild (workerd under Miniflare) may hold the pipes open; they must not keep the bench alive.
    child.stdout?.destroy();
    child.stderr?.destroy();
  });
}

async function waitFor(url: string, headers: Record<string, string> = {}, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(150);
  }
}

/** nginx with proxy_cache in front of a plain file server holding the same bytes: a warm cache hit per request. */
async function startNginx(objectPath: string, body: string, workers: string, log: (line: string) => void): Promise<Server> {
  const port = await freePort();
  const originPort = await freePort();
  const dir = join(paths.run, `bench-nginx-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['cache', 'temp', 'origin/reports', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const file = join(dir, 'origin', 'reports', objectPath);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, body);
  // Debian's defaults where they matter: worker_processes auto, gzip level 1 for application/json,
  // a buffered access log (nginx writes it in 64 KiB chunks, as the edge batches its log lines).
  const conf = `
worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  default_type application/json;
  access_log ${dir}/logs/access.log combined buffer=64k flush=1s;
  client_body_temp_path ${dir}/temp/body; proxy_temp_path ${dir}/temp/proxy; fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi; scgi_temp_path ${dir}/temp/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=reports:16m max_size=64m inactive=10m use_temp_path=off;
  server { listen 127.0.0.1:${originPort}; root ${dir}/origin; etag on; access_log off; }
  server {
    listen 127.0.0.1:${port};
    gzip on; gzip_types application/json; gzip_min_length 256; gzip_vary on;
    location /reports/ {
      proxy_pass http://127.0.0.1:${originPort};
      proxy_cache reports;
      proxy_cache_key $uri;
      proxy_cache_valid 200 10m;
      proxy_cache_lock on;
      proxy_cache_use_stale error timeout updating;
      add_header X-Cache-Status $upstream_cache_status;
      add_header Cache-Control "private, max-age=60";
    }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  // Runs as root here only to bind and read its files; workers would otherwise need the folder chowned.
  const child = startChild('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'user root;'], process.env, log);
  const url = `http://127.0.0.1:${port}/reports/${objectPath}?exp=1&sig=unused-by-nginx`;
  await waitFor(url);
  return {
    name: `nginx ${nginxVersion()} proxy_cache`,
    url,
    pid: child.pid!,
    async stop() {
      await stopChild(child, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function nginxVersion(): string {
  const out = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return /nginx\/([\d.]+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? '?';
}

async function startEdge(runtime: EdgeBenchRuntime, key: string, env: Record<string, string | undefined>, options: EdgeCdnBenchOptions, log: (line: string) => void): Promise<Server> {
  const port = await freePort();
  const settings = { LOG_LEVEL: options.logLevel, CDN_FRESH_SECONDS: '3600', CDN_PORT: String(port), HOST: '127.0.0.1', EDGE_WORKERS: options.workers };
  let child: ChildProcess;
  if (runtime === 'workerd') {
    const names = ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'CDN_SIGNING_KEY', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];
    const bindings = { ...Object.fromEntries(names.map((name) => [name, env[name]!])), LOG_LEVEL: options.logLevel, CDN_FRESH_SECONDS: '3600' };
    const host = options.root ? join(options.root, 'tests', 'edge', 'contract', 'workerd-host.ts') : WORKERD_HOST;
    child = startChild(NODE, [host, '--env', 'cdn', '--port', String(port)], { PATH: process.env.PATH, HOME: process.env.HOME, EDGE_WORKER_BINDINGS: JSON.stringify(bindings) }, log, options.root);
  } else {
    const prof = options.cpuProfDir ? [`--cpu-prof`, `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const [command, argv] = {
      node: [NODE, [...prof, 'edge/runtime/node.ts', '--app=cdn']],
      bun: [BUN, [...prof, 'edge/runtime/bun.ts', '--app=cdn']],
      deno: [DENO, ['run', '-A', 'edge/runtime/deno.ts', '--app=cdn']],
    }[runtime] as [string, string[]];
    child = startChild(command, argv, { ...process.env, ...env, ...settings }, log, options.root);
  }
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const url = await signReportUrl({ cdnUrl: `http://127.0.0.1:${port}`, key, expiresAtSeconds: exp, signingKey: env.CDN_SIGNING_KEY! });
  await waitFor(url);
  return { name: `CDN edge (${runtime})${options.root ? ` @${options.root}` : ''}`, url, pid: child.pid!, stop: () => stopChild(child) };
}

/** One request with the row's headers: the answer must be the object, in the asked encoding, from the cache. */
async function checkAnswer(server: Server, encoding: EdgeBenchEncoding, body: string): Promise<void> {
  const headers = encoding === 'gzip' ? { 'accept-encoding': 'gzip' } : { 'accept-encoding': 'identity' };
  // Two requests: the first may fill the cache or make the compressed copy.
  for (let attempt = 0; attempt < 2; attempt++) {
    const { status, headers: got, bytes } = await rawGet(server.url, headers);
    if (attempt === 0) continue;
    const coding = got['content-encoding'] ?? 'identity';
    if (status !== 200) throw new Error(`${server.name}: status ${status}`);
    if (coding !== encoding) throw new Error(`${server.name}: asked ${encoding}, got Content-Encoding ${coding}`);
    const text = (coding === 'gzip' ? gunzipSync(bytes) : bytes).toString();
    if (text !== body) throw new Error(`${server.name}: the body is not the object`);
    const cacheStatus = got['x-cache-status'];
    if (cacheStatus !== 'HIT') throw new Error(`${server.name}: X-Cache-Status ${cacheStatus}, expected HIT`);
  }
}

/** node:http, not fetch: fetch decodes gzip itself and hides the header. */
async function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string>; bytes: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface WrkFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  bytesPerResponse: number;
}

const WRK_REPORT = `
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p99Us":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99), errors, summary.errors.status))
end
`;

/**
 * wrk as an asynchronous child: the bench keeps draining the servers' stdout meanwhile (a blocked
 * spawnSync would let their log pipe fill up, and a server writing to a full pipe stalls).
 */
function runWrk(url: string, encoding: EdgeBenchEncoding, seconds: number, options: EdgeCdnBenchOptions, script: string): Promise<WrkFigures> {
  const header = encoding === 'gzip' ? 'Accept-Encoding: gzip' : 'Accept-Encoding: identity';
  const child = spawn('wrk', [`-t${options.threads}`, `-c${options.connections}`, `-d${seconds}s`, '--latency', '-s', script, '-H', header, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(killer);
      const line = /WRK_JSON (\{.*\})/.exec(stdout)?.[1];
      if (!line) return reject(new Error(`wrk gave no figures: ${stderr || stdout}`));
      const raw = JSON.parse(line) as { requests: number; durationUs: number; bytes: number; p50Us: number; p99Us: number; errors: number; non2xx: number };
      resolve({
        requestsPerSecond: Math.round(raw.requests / (raw.durationUs / 1e6)),
        p50Ms: Math.round(raw.p50Us / 10) / 100,
        p99Ms: Math.round(raw.p99Us / 10) / 100,
        errors: raw.errors,
        non2xx: raw.non2xx,
        bytesPerResponse: Math.round(raw.bytes / Math.max(1, raw.requests)),
      });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export async function runEdgeCdnBench(partial: Partial<EdgeCdnBenchOptions> = {}): Promise<EdgeCdnBenchResult> {
  const options = { ...defaultEdgeCdnBenchOptions(), ...partial };
  const log = options.log ?? ((line: string) => console.log(line));
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install -y wrk)');
  if (options.nginx && spawnSync('nginx', ['-v']).error) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const env = loadStackEnv() as Record<string, string | undefined>;
  const s3 = localS3Client(s3Settings(env as never), 10_000);
  const key = `bench-${process.pid}/daily/2026-11-24/report.json`;
  const body = JSON.stringify({
    user_id: 'bench.runner',
    date: '2026-11-24',
    hours: Array.from({ length: 24 }, (_, hour) => ({ hour, movements: 40 + hour * 7, successful_movements: 38 + hour * 7, avg_response_ms: 112.5 + hour, battery_min_pct: 100 - hour * 3, error_codes: hour % 5 === 0 ? ['E12'] : [] })),
  });
  const scriptDir = join(paths.run, `bench-wrk-${process.pid}`);
  mkdirSync(scriptDir, { recursive: true });
  const script = join(scriptDir, 'report.lua');
  writeFileSync(script, WRK_REPORT);
  await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
  log(`object: ${body.length} B JSON; wrk -t${options.threads} -c${options.connections}, ${options.warmupSeconds} s warm-up + ${options.seconds} s per row, ${options.rounds} round(s); edge workers ${options.workers}`);

  const servers: Array<{ name: string; start: () => Promise<Server> }> = [];
  if (options.nginx) servers.push({ name: 'nginx', start: () => startNginx(key, body, options.nginxWorkers, log) });
  for (const runtime of options.runtimes) servers.push({ name: runtime, start: () => startEdge(runtime, key, env, options, log) });

  const figures = new Map<string, { server: string; encoding: EdgeBenchEncoding; runs: WrkFigures[]; rssLoad: number[]; rssIdle: number[]; processes: number }>();
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Alternate sides between rounds so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const entry of order) {
        const server = await entry.start();
        try {
          let rssLoad: { mib: number; processes: number } | null = null;
          for (const encoding of options.encodings) {
            await checkAnswer(server, encoding, body);
            if (options.warmupSeconds > 0) await runWrk(server.url, encoding, options.warmupSeconds, options, script);
            const run = await runWrk(server.url, encoding, options.seconds, options, script);
            rssLoad = treeRssMiB(server.pid) ?? rssLoad;
            const id = `${server.name}|${encoding}`;
            const slot = figures.get(id) ?? { server: server.name, encoding, runs: [], rssLoad: [], rssIdle: [], processes: 0 };
            slot.runs.push(run);
            figures.set(id, slot);
            log(`  round ${round + 1} ${server.name} ${encoding}: ${run.requestsPerSecond} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms${run.non2xx || run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''}`);
          }
          await sleep(options.rssIdleSeconds * 1000);
          const rssIdle = treeRssMiB(server.pid);
          for (const encoding of options.encodings) {
            const slot = figures.get(`${server.name}|${encoding}`)!;
            if (rssLoad) slot.rssLoad.push(rssLoad.mib);
            if (rssIdle) slot.rssIdle.push(rssIdle.mib);
            slot.processes = rssLoad?.processes ?? 0;
          }
          if (rssLoad) log(`  ${server.name}: RSS after load ${rssLoad.mib} MiB (${rssLoad.processes} processes), after ${options.rssIdleSeconds} s idle ${rssIdle?.mib ?? '?'} MiB`);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await s3.send(new DeleteObjectCommand({ Bucket: env.S3_BUCKET, Key: key })).catch(() => {});
    s3.destroy();
    rmSync(scriptDir, { recursive: true, force: true });
  }

  const nginx: Partial<Record<EdgeBenchEncoding, number>> = {};
  for (const slot of figures.values()) if (slot.server.startsWith('nginx')) nginx[slot.encoding] = median(slot.runs.map((r) => r.requestsPerSecond));
  const rows: EdgeCdnRow[] = [...figures.values()].map((slot) => {
    const rps = median(slot.runs.map((r) => r.requestsPerSecond));
    const anchor = nginx[slot.encoding];
    const last = slot.runs[slot.runs.length - 1]!;
    return {
      server: slot.server,
      encoding: slot.encoding,
      requestsPerSecond: rps,
      rounds: slot.runs.map((r) => r.requestsPerSecond),
      p50Ms: median(slot.runs.map((r) => r.p50Ms * 100)) / 100,
      p99Ms: median(slot.runs.map((r) => r.p99Ms * 100)) / 100,
      errors: slot.runs.reduce((n, r) => n + r.errors, 0),
      non2xx: slot.runs.reduce((n, r) => n + r.non2xx, 0),
      bytesPerResponse: last.bytesPerResponse,
      vsNginx: anchor ? Math.round((rps / anchor) * 100) / 100 : null,
      rssAfterLoadMiB: slot.rssLoad.length ? Math.max(...slot.rssLoad) : null,
      rssAfterIdleMiB: slot.rssIdle.length ? Math.max(...slot.rssIdle) : null,
      processes: slot.processes,
    };
  });
  const flags = [
    `--seconds=${options.seconds}`,
    `--connections=${options.connections}`,
    `--rounds=${options.rounds}`,
    `--runtimes=${options.runtimes.join(',')}`,
    `--encodings=${options.encodings.join(',')}`,
    `--workers=${options.workers}`,
    ...(options.nginx ? [] : ['--no-nginx']),
    ...(options.root ? [`--root=${options.root}`] : []),
  ];
  return {
    objectBytes: body.length,
    rows,
    nginx,
    command: `node_modules/.bin/node bench/edge-cdn.bench.ts ${flags.join(' ')}`,
    machine: `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.versions.node}`,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

export function formatEdgeCdnTable(result: EdgeCdnBenchResult): string {
  const header = '| server | encoding | req/s (median) | rounds | p50 / p99 ms | vs nginx | non-2xx / errors | B/response | RSS after load / idle MiB (processes) |';
  const rule = '|---|---|---:|---|---:|---:|---:|---:|---:|';
  const lines = result.rows.map(
    (r) =>
      `| ${r.server} | ${r.encoding} | ${r.requestsPerSecond} | ${r.rounds.join(' / ')} | ${r.p50Ms} / ${r.p99Ms} | ${r.vsNginx === null ? '' : `${r.vsNginx.toFixed(2)}×`} | ${r.non2xx} / ${r.errors} | ${r.bytesPerResponse} | ${r.rssAfterLoadMiB ?? '?'} / ${r.rssAfterIdleMiB ?? '?'} (${r.processes}) |`,
  );
  return [header, rule, ...lines].join('\n');
}

if (import.meta.main ?? process.argv[1]?.endsWith('edge-cdn.bench.ts')) {
  const options = parseCli(process.argv.slice(2));
  runEdgeCdnBench(options)
    .then((result) => {
      console.log(`\n## CDN cache hit (${result.objectBytes} B JSON)\n\n${formatEdgeCdnTable(result)}`);
      console.log(`\nmachine: ${result.machine}; load average ${result.load}\ncommand: ${result.command}`);
      console.log(JSON.stringify(result));
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
