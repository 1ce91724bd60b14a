/**
 * Edge benchmark, loopback only, bounded by time:
 *   1. CDN cache hits: the CDN edge under Node and under Bun vs Debian nginx (proxy_cache hit of
 *      the same object), same signed URL shape, identity encoding: req/s, p50/p99, ratio to nginx.
 *   2. An authenticated report call through the BFF (Node, Bun) → core with core's S3 document
 *      cache warm, against the same call made to core directly with a bearer token.
 *
 *   node_modules/.bin/node bench/edge-cdn.bench.ts [--seconds=10] [--connections=32] [--skip-api]
 *
 * Load: autocannon (in this process) against servers in child processes. The machine has few
 * cores, so load generator and server compete for CPU: compare the rows with each other, not with
 * published figures. Needs the stack (Redis, S3; Keycloak and core's dependencies for part 2).
 * Seeds one S3 object and one Keycloak login, removes the object afterwards.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { signReportUrl } from '../common/cdn/signing.ts';
import { ensureDebPackages } from '../stack/lib/apt.ts';
import { loadStackEnv } from '../stack/lib/env.ts';
import { paths, ROOT } from '../stack/lib/paths.ts';
import { localS3Client } from '../stack/services/s3.ts';
import { s3Settings } from '../stack/services/s3-server.ts';
import { freePort } from '../tests/helpers/free-port.ts';
import { fetchUserTokens, loginThroughBff, TestBrowser } from '../tests/helpers/keycloak-login.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SECONDS = Number(args.get('seconds') ?? 10);
const CONNECTIONS = Number(args.get('connections') ?? 32);
const WARMUP_SECONDS = 2;
const PERSON = args.get('person') ?? 'sergey.sokolov';

const env = loadStackEnv();
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const children: ChildProcess[] = [];

interface Row {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Response bytes per request (headers included), to show every server sent the whole object. */
  bytesPerRequest: number;
}

function start(command: string, argv: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'error', ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function waitFor(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function measure(name: string, url: string, headers: Record<string, string> = {}): Promise<Row> {
  await autocannon({ url, headers, connections: CONNECTIONS, duration: WARMUP_SECONDS });
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
  const row = {
    name,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    bytesPerRequest: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
  };
  console.log(`  measured ${name}: ${row.requestsPerSecond} req/s`);
  return row;
}

function table(rows: Row[], baseline?: Row): string {
  const header = `| server | req/s | p50 ms | p99 ms | errors | non-2xx | bytes/response |${baseline ? ` vs ${baseline.name} |` : ''}`;
  const rule = `|---|---:|---:|---:|---:|---:|---:|${baseline ? '---:|' : ''}`;
  const lines = rows.map((r) => `| ${r.name} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.non2xx} | ${r.bytesPerRequest} |${baseline ? ` ${(r.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}× |` : ''}`);
  return [header, rule, ...lines].join('\n');
}

/** nginx with proxy_cache in front of a file server holding the same bytes: a warm cache hit per request. */
async function startNginx(objectPath: string, body: string, port: number): Promise<ChildProcess> {
  await ensureDebPackages('bench', ['nginx']);
  const dir = join(paths.run, `bench-nginx-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['cache', 'temp', 'origin/reports', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const file = join(dir, 'origin', 'reports', objectPath);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, body);
  const originPort = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path ${dir}/temp/body; proxy_temp_path ${dir}/temp/proxy; fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi; scgi_temp_path ${dir}/temp/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=reports:16m max_size=64m inactive=10m use_temp_path=off;
  server { listen 127.0.0.1:${originPort}; root ${dir}/origin; etag on; }
  server {
    listen 127.0.0.1:${port};
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
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'user root;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  child.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return child;
}

async function main(): Promise<void> {
  const s3 = localS3Client(s3Settings(env), 10_000);
  const key = `bench-${process.pid}/daily/2026-11-24/report.json`;
  const body = JSON.stringify({
    user_id: PERSON,
    date: '2026-11-24',
    hours: Array.from({ length: 24 }, (_, hour) => ({ hour, movements: 40 + hour * 7, successful_movements: 38 + hour * 7, avg_response_ms: 112.5 + hour, battery_min_pct: 100 - hour * 3, error_codes: hour % 5 === 0 ? ['E12'] : [] })),
  });
  await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
  const results: { cdn: Row[]; api: Row[] } = { cdn: [], api: [] };
  try {
    console.log(`object: ${body.length} bytes JSON; ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up; ${CONNECTIONS} connections; autocannon 9`);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    for (const runtime of ['node', 'bun'] as const) {
      const port = await freePort();
      const child = start(runtime === 'node' ? NODE : BUN, ['edge/runtime/' + runtime + '.ts', '--app=cdn'], { CDN_PORT: String(port), CDN_FRESH_SECONDS: '3600' });
      const url = await signReportUrl({ cdnUrl: `http://127.0.0.1:${port}`, key, expiresAtSeconds: exp, signingKey: env.CDN_SIGNING_KEY! });
      await waitFor(url);
      results.cdn.push(await measure(`CDN edge (${runtime})`, url));
      child.kill('SIGTERM');
    }
    const nginxPort = await freePort();
    const nginx = await startNginx(key, body, nginxPort);
    const nginxUrl = `http://127.0.0.1:${nginxPort}/reports/${key}?exp=${exp}&sig=unused-by-nginx`;
    await waitFor(nginxUrl);
    results.cdn.push(await measure('nginx 1.22 proxy_cache', nginxUrl));
    nginx.kill('SIGQUIT');

    if (!args.has('skip-api')) {
      const corePort = await freePort();
      start(NODE, ['core/serve-node.ts'], { PORT: String(corePort) });
      const coreUrl = `http://127.0.0.1:${corePort}`;
      await waitFor(`${coreUrl}/health/live`);
      const tokens = await fetchUserTokens({ env, username: PERSON });
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      await waitFor(`${coreUrl}/api/reports/summary`, bearer);
      results.api.push(await measure('core direct (bearer)', `${coreUrl}/api/reports/summary`, bearer));
      for (const runtime of ['node', 'bun'] as const) {
        const port = await freePort();
        const child = start(runtime === 'node' ? NODE : BUN, ['edge/runtime/' + runtime + '.ts', '--app=bff'], { BFF_PORT: String(port), CORE_URL: coreUrl, AUTH_RATE_LIMIT: '100000' });
        const bffUrl = `http://127.0.0.1:${port}`;
        await waitFor(`${bffUrl}/health/live`);
        const login = await loginThroughBff({ bffUrl, username: PERSON, env, browser: new TestBrowser() });
        results.api.push(await measure(`BFF (${runtime}) → core`, `${bffUrl}/api/reports/summary`, { cookie: login.cookie }));
        await fetch(`${bffUrl}/auth/logout`, { method: 'POST', headers: { cookie: login.cookie, origin: env.FRONTEND_URL! } });
        child.kill('SIGTERM');
      }
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await s3.send(new DeleteObjectCommand({ Bucket: env.S3_BUCKET, Key: key })).catch(() => {});
    s3.destroy();
  }

  const nginxRow = results.cdn.find((r) => r.name.startsWith('nginx'));
  console.log(`\n## CDN cache hit (${body.length} B JSON, identity)\n\n${table(results.cdn, nginxRow)}`);
  if (results.api.length > 0) console.log(`\n## GET /api/reports/summary, core's S3 cache warm\n\n${table(results.api, results.api[0])}`);
  console.log(`\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.versions.node}`);
  console.log(`command: node_modules/.bin/node bench/edge-cdn.bench.ts --seconds=${SECONDS} --connections=${CONNECTIONS}${args.has('skip-api') ? ' --skip-api' : ''}`);
}

main().catch((error: unknown) => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  console.error(error);
  process.exitCode = 1;
});
