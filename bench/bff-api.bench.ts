/**
 * BFF → core benchmark: GET /api/reports/summary with a real session cookie through the BFF,
 * against the same call made to core directly with the session's bearer token, in one run, so
 * the BFF's own cost reads as (BFF latency − core latency) whatever else the machine is doing.
 *
 *   node_modules/.bin/node bench/bff-api.bench.ts [--seconds=5] [--rounds=1] [--runtime=node|bun]
 *       [--person=sergey.sokolov] [--core-url=http://…] [--upstream=core|static] [--cpu-prof=<dir>]
 *
 * --upstream=static puts a minimal node:http server answering a fixed 2.9 KB JSON where core would
 * be (it checks only that a bearer token came along): with core out of the way the BFF is the
 * bottleneck, which is what a profile of the BFF needs. The default is the real core.
 *
 * Loopback only, bounded by time. Core and the BFF run from their entry files as child processes
 * (or core at --core-url if given). c=32: autocannon (its latency histogram has 1 ms buckets, so
 * only its req/s is used). c=1: a keep-alive node:http loop timed with performance.now(), for a
 * p50 finer than a millisecond. Rounds alternate core and BFF. The last line of output is one JSON
 * object with every figure, for the `npm run bench` runner.
 *
 * Needs the stack (Redis, Keycloak + LDAP, and what core needs). Signs one person in through the
 * BFF (real Keycloak login with TOTP) and logs out at the end.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { loadStackEnv } from '../stack/lib/env.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { freePort } from '../tests/helpers/free-port.ts';
import { fetchUserTokens, loginThroughBff, TestBrowser } from '../tests/helpers/keycloak-login.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SECONDS = Number(args.get('seconds') ?? 5);
const ROUNDS = Math.max(1, Number(args.get('rounds') ?? 1));
const WARMUP_SECONDS = Math.min(2, SECONDS);
const RUNTIME = args.get('runtime') === 'bun' ? 'bun' : 'node';
const PERSON = args.get('person') ?? 'sergey.sokolov';
const CPU_PROF_DIR = args.get('cpu-prof');
const PATH = '/api/reports/summary';
const UPSTREAM = args.get('upstream') === 'static' ? 'static' : 'core';

/** The stand-in for core with --upstream=static: no work per request beyond HTTP itself. */
const STATIC_UPSTREAM = `
const body = JSON.stringify({ user_id: 'bench', days: Array.from({ length: 40 }, (_, i) => ({ date: '2026-11-' + String(i % 30 + 1).padStart(2, '0'), movements: 1000 + i, errors: i % 3 })) });
require('node:http').createServer((req, res) => {
  if (req.url === '/health/live') return res.end('{"status":"ok"}');
  if (!/^Bearer .+/.test(req.headers.authorization ?? '')) { res.statusCode = 401; return res.end('{}'); }
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'private, no-cache');
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const env = loadStackEnv();
const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const children: ChildProcess[] = [];

function start(command: string, argv: string[], extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'error', ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
}

async function waitFor(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; NaN elsewhere). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Runs `work` and adds the server's CPU microseconds per request to what it returns. */
async function withServerCpu<T extends { requests?: number; rps: number }>(pid: number | undefined, seconds: number, work: () => Promise<T>): Promise<T & { serverCpuUsPerRequest: number }> {
  const before = cpuSecondsOf(pid);
  const result = await work();
  const requests = result.requests ?? result.rps * seconds;
  return { ...result, serverCpuUsPerRequest: Math.round(((cpuSecondsOf(pid) - before) * 1e6) / Math.max(1, requests)) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round2 = (n: number) => Math.round(n * 100) / 100;

interface SerialResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non200: number;
}

/** One client, one keep-alive connection, one request at a time: latency with sub-ms resolution. */
async function measureSerial(url: string, headers: Record<string, string>, seconds: number): Promise<SerialResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const latencies: number[] = [];
  let non200 = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const status = await once();
    latencies.push(performance.now() - t0);
    if (status !== 200) non200++;
  }
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, rps: Math.round(latencies.length / elapsedS), p50Ms: round2(percentile(latencies, 50)), p99Ms: round2(percentile(latencies, 99)), non200 };
}

interface ConcurrentResult {
  requests?: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function measureConcurrent(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<ConcurrentResult> {
  const result = await autocannon({ url, headers, connections, duration: seconds });
  return { requests: result.requests.total, rps: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : round2((sorted[mid - 1]! + sorted[mid]!) / 2);
};

async function main(): Promise<void> {
  let coreUrl = args.get('core-url');
  let corePid: number | undefined;
  if (!coreUrl) {
    const corePort = await freePort();
    const upstream = UPSTREAM === 'static' ? start(BIN('node'), ['-e', STATIC_UPSTREAM], { PORT: String(corePort) }) : start(BIN('node'), ['core/serve-node.ts'], { PORT: String(corePort) });
    corePid = upstream.pid;
    coreUrl = `http://127.0.0.1:${corePort}`;
  }
  await waitFor(`${coreUrl}/health/live`);

  const bffPort = await freePort();
  const bffArgs = [...(CPU_PROF_DIR && RUNTIME === 'node' ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []), `edge/runtime/${RUNTIME}.ts`, '--app=bff'];
  // The /api rate limit is per session: one benchmark session must not be limited.
  const bff = start(BIN(RUNTIME), bffArgs, { BFF_PORT: String(bffPort), CORE_URL: coreUrl, AUTH_RATE_LIMIT: '100000', API_RATE_LIMIT: '100000000' });
  const bffUrl = `http://127.0.0.1:${bffPort}`;
  await waitFor(`${bffUrl}/health/live`);

  const browser = new TestBrowser();
  const login = await loginThroughBff({ bffUrl, username: PERSON, env, browser });
  // Rides the same Keycloak SSO session: no second password/TOTP round.
  const tokens = await fetchUserTokens({ env, username: PERSON, browser });
  const bearer = { authorization: `Bearer ${tokens.access_token}` };
  const cookie = { cookie: login.cookie };
  const coreTarget = `${coreUrl}${PATH}`;
  const bffTarget = `${bffUrl}${PATH}`;
  await waitFor(coreTarget, bearer);
  await waitFor(bffTarget, cookie);

  const sides: Array<{ name: 'core' | 'bff'; url: string; headers: Record<string, string>; pid: number | undefined }> = [
    { name: 'core', url: coreTarget, headers: bearer, pid: corePid },
    { name: 'bff', url: bffTarget, headers: cookie, pid: bff.pid },
  ];
  type Measured<T> = T & { serverCpuUsPerRequest: number };
  const serial: Record<string, Measured<SerialResult>[]> = { core: [], bff: [] };
  const concurrent: Record<string, Measured<ConcurrentResult>[]> = { core: [], bff: [] };
  try {
    for (const side of sides) await measureConcurrent(side.url, side.headers, WARMUP_SECONDS, 32);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which side goes first so a drift in machine load does not favour one.
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        serial[side.name]!.push(await withServerCpu(side.pid, SECONDS, () => measureSerial(side.url, side.headers, SECONDS)));
        console.error(`  c=1  ${side.name}: p50 ${serial[side.name]!.at(-1)!.p50Ms} ms, ${serial[side.name]!.at(-1)!.rps} req/s`);
      }
      for (const side of order) {
        concurrent[side.name]!.push(await withServerCpu(side.pid, SECONDS, () => measureConcurrent(side.url, side.headers, SECONDS, 32)));
        console.error(`  c=32 ${side.name}: ${concurrent[side.name]!.at(-1)!.rps} req/s, server CPU ${concurrent[side.name]!.at(-1)!.serverCpuUsPerRequest} µs/request`);
      }
    }
  } finally {
    await fetch(`${bffUrl}/auth/logout`, { method: 'POST', headers: { cookie: login.cookie, origin: env.FRONTEND_URL! } }).catch(() => undefined);
    await stop(bff);
    for (const child of children) await stop(child);
  }

  const summary = (name: string) => ({
    c1: { p50Ms: median(serial[name]!.map((r) => r.p50Ms)), p99Ms: median(serial[name]!.map((r) => r.p99Ms)), rps: median(serial[name]!.map((r) => r.rps)), non200: serial[name]!.reduce((n, r) => n + r.non200, 0) },
    c32: { rps: median(concurrent[name]!.map((r) => r.rps)), serverCpuUsPerRequest: median(concurrent[name]!.map((r) => r.serverCpuUsPerRequest)), p50Ms: median(concurrent[name]!.map((r) => r.p50Ms)), p99Ms: median(concurrent[name]!.map((r) => r.p99Ms)), errors: concurrent[name]!.reduce((n, r) => n + r.errors, 0), non2xx: concurrent[name]!.reduce((n, r) => n + r.non2xx, 0) },
    rounds: { c1: serial[name], c32: concurrent[name] },
  });
  const core = summary('core');
  const bffResult = summary('bff');
  const result = {
    bench: 'bff-api',
    path: PATH,
    runtime: RUNTIME,
    upstream: args.get('core-url') ? args.get('core-url') : UPSTREAM,
    seconds: SECONDS,
    rounds: ROUNDS,
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.versions.node },
    core,
    bff: bffResult,
    bffOverheadC1P50Ms: round2(bffResult.c1.p50Ms - core.c1.p50Ms),
    bffToCoreC32Ratio: round2(bffResult.c32.rps / core.c32.rps),
    /** The BFF process's own CPU per proxied call at c=32 (the machine-independent part of its cost). */
    bffCpuUsPerRequest: bffResult.c32.serverCpuUsPerRequest,
    goals: { c32Rps: 3200, c1P50Ms: 1.2, c32Met: bffResult.c32.rps >= 3200, c1Met: bffResult.c1.p50Ms <= 1.2 },
    command: `node_modules/.bin/node bench/bff-api.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  };
  console.log(`| GET ${PATH} | c=1 p50 / p99 ms | c=32 req/s |\n|---|---:|---:|\n| ${UPSTREAM === 'static' ? 'static upstream' : 'core'} direct (bearer) | ${core.c1.p50Ms} / ${core.c1.p99Ms} | ${core.c32.rps} |\n| BFF (${RUNTIME}) → core | ${bffResult.c1.p50Ms} / ${bffResult.c1.p99Ms} | ${bffResult.c32.rps} |\nBFF overhead at c=1 (p50): ${result.bffOverheadC1P50Ms} ms; BFF/core at c=32: ${result.bffToCoreC32Ratio}×; server CPU per request at c=32: ${UPSTREAM} ${core.c32.serverCpuUsPerRequest} µs, BFF ${bffResult.c32.serverCpuUsPerRequest} µs`);
  console.log(JSON.stringify(result));
}

main().catch(async (error: unknown) => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  console.error(error);
  process.exitCode = 1;
});
