/**
 * The built app through the BFF: bytes on the wire per content coding, and req/s with p50/p99 for
 * the main JS asset sent br, gzip and identity. Loopback only, no stack services:
 *
 *   node_modules/.bin/node bench/bff-assets.bench.ts [--seconds=10] [--connections=32] [--runtimes=node,bun]
 *
 * Builds the app with `vite build` into a temporary directory, then starts the BFF app in a child
 * process (this file again, with --serve) on a free port: the real createBffApp over the node:fs
 * reader and the node:zlib compressor, with an in-memory session store and a stub identity provider
 * (serving files touches neither). The load comes from this process: keep-alive node:http clients
 * (llhttp), which count the bytes and never decode them. Not autocannon: it appends every response
 * body to a string (`req.body += data`, autocannon 9 lib/pipelinedRequestsQueue.js), which costs it
 * ~10x on binary bodies, so it measured itself rather than the server for br and gzip. On a machine
 * with few cores client and server compete for CPU: compare the rows of one run with each other.
 */
import { serve } from '@hono/node-server';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createLogger } from '../common/log.ts';
import { createBffApp } from '../edge/bff/app.ts';
import { buildBffDeps } from '../edge/bff/deps.ts';
import type { IdentityProvider } from '../edge/bff/keycloak.ts';
import { loadBffConfig } from '../edge/config.ts';
import { openFrontendDist } from '../edge/runtime/frontend-dist.ts';
import { createZlibCompressor } from '../edge/runtime/zlib-compressor.ts';
import { createMemoryStore } from '../edge/store/memory.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { freePort } from '../tests/helpers/free-port.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const SECONDS = Number(args.get('seconds') ?? 10);
const CONNECTIONS = Number(args.get('connections') ?? 32);
const RUNTIMES = (args.get('runtimes') ?? 'node,bun').split(',') as ('node' | 'bun')[];
const WARMUP_SECONDS = 2;
const CODINGS = [
  ['br', 'gzip, deflate, br, zstd'],
  ['gzip', 'gzip, deflate'],
  ['identity', 'identity'],
] as const;

/** Server role: the BFF app over a built dist, nothing else. */
async function serveBff(dir: string, port: number): Promise<void> {
  const unused = () => Promise.reject(new Error('not used by the bench'));
  const idp: IdentityProvider = { authorizationUrl: () => new URL('http://kc.invalid/'), exchangeCode: unused, refresh: unused, revoke: () => Promise.resolve(), identify: unused, endSessionUrl: () => 'http://kc.invalid/', endSsoSession: () => Promise.resolve(), verifyLogoutToken: unused };
  const config = loadBffConfig({
    KEYCLOAK_URL: 'http://kc.invalid',
    KEYCLOAK_REALM: 'bench',
    BFF_CLIENT_SECRET: 'bench-client-secret',
    SESSION_ENCRYPTION_KEY: 'bench-session-key-0123456789abcdef',
    CORE_URL: 'http://core.invalid',
    BFF_PUBLIC_URL: `http://127.0.0.1:${port}`,
    FRONTEND_URL: `http://127.0.0.1:${port}`,
    CDN_URL: 'http://127.0.0.1:1',
    LOG_LEVEL: 'error',
  });
  const deps = await buildBffDeps(config, { store: createMemoryStore(), logger: createLogger({ service: 'bff', level: 'error' }), idp, frontendAssets: await openFrontendDist(dir), compressor: createZlibCompressor() });
  const app = createBffApp(deps);
  if (typeof Bun !== 'undefined') Bun.serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  else serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
}

interface Wire {
  status: number;
  coding: string;
  contentLength: number;
  bodyBytes: number;
  body: Buffer;
  ms: number;
}

/** One GET with node:http, which never decodes: the bytes as they crossed the socket. */
function fetchRaw(url: string, acceptEncoding: string): Promise<Wire> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': acceptEncoding, accept: 'text/html' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, coding: response.headers['content-encoding'] ?? 'identity', contentLength: Number(response.headers['content-length']), bodyBytes: body.byteLength, body, ms: performance.now() - started });
      });
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetchRaw(url, 'identity')).status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

interface Row {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  bodyBytes: number;
  megabytesPerSecond: number;
}

/** CONNECTIONS keep-alive connections, each sending its next request when the last answer ended. */
async function load(url: string, acceptEncoding: string, seconds: number): Promise<{ latenciesMs: number[]; errors: number; bodyBytes: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latenciesMs: number[] = [];
  let errors = 0;
  let bodyBytes = 0;
  const endAt = performance.now() + seconds * 1000;
  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      request(url, { agent, headers: { 'accept-encoding': acceptEncoding } }, (response) => {
        response.on('data', (chunk: Buffer) => (bodyBytes += chunk.byteLength));
        response.on('end', () => {
          if (response.statusCode === 200) latenciesMs.push(performance.now() - started);
          else errors++;
          resolve();
        });
      })
        .on('error', () => {
          errors++;
          resolve();
        })
        .end();
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < endAt) await once();
    }),
  );
  agent.destroy();
  return { latenciesMs, errors, bodyBytes };
}

async function measure(name: string, url: string, acceptEncoding: string): Promise<Row> {
  await load(url, acceptEncoding, WARMUP_SECONDS);
  const { latenciesMs, errors, bodyBytes } = await load(url, acceptEncoding, SECONDS);
  latenciesMs.sort((a, b) => a - b);
  const at = (fraction: number) => Number((latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(latenciesMs.length * fraction))] ?? NaN).toFixed(1));
  const row = {
    name,
    requestsPerSecond: Math.round(latenciesMs.length / SECONDS),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors,
    bodyBytes: Math.round(bodyBytes / Math.max(1, latenciesMs.length + errors)),
    megabytesPerSecond: Number((bodyBytes / SECONDS / 1e6).toFixed(1)),
  };
  console.log(`  measured ${name}: ${row.requestsPerSecond} req/s`);
  return row;
}

function filesOf(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesOf(dir, join(under, entry.name)) : [join(under, entry.name)]));
}

async function main(): Promise<void> {
  const dist = mkdtempSync(join(tmpdir(), 'bionicpro-bench-dist-'));
  const children: ChildProcess[] = [];
  try {
    console.log(`building the app into ${dist}`);
    execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'frontend/vite.config.ts', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    const files = filesOf(dist).filter((file) => /\.(html|js|css|svg|json|txt)$/.test(file));
    const mainJs = files.filter((file) => file.endsWith('.js')).sort((a, b) => statSync(join(dist, b)).size - statSync(join(dist, a)).size)[0];
    if (!mainJs) throw new Error('the build has no JS file');

    const wire: string[] = [];
    const cold: string[] = [];
    const rows: Row[] = [];
    for (const runtime of RUNTIMES) {
      const port = await freePort();
      const command = runtime === 'node' ? process.execPath : join(ROOT, 'node_modules', '.bin', 'bun');
      const child = spawn(command, [join(ROOT, 'bench', 'bff-assets.bench.ts'), `--serve=${dist}`, `--port=${port}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(child);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(`${base}/health/live`);

      // First request per coding makes the compressed copy; the next ones are served from memory.
      // Identity first (a cold read of the file), after other files warmed the code path.
      for (const file of files.filter((file) => file !== mainJs)) for (const [, acceptEncoding] of CODINGS) await fetchRaw(`${base}/${file.split('\\').join('/')}`, acceptEncoding);
      const jsUrl = `${base}/${mainJs.split('\\').join('/')}`;
      for (const [coding, acceptEncoding] of [...CODINGS].reverse()) {
        const first = await fetchRaw(jsUrl, acceptEncoding);
        const later: number[] = [];
        for (let n = 0; n < 20; n++) later.push((await fetchRaw(jsUrl, acceptEncoding)).ms);
        later.sort((a, b) => a - b);
        cold.push(`| ${runtime} | ${coding} | ${first.ms.toFixed(1)} | ${later[10]!.toFixed(1)} |`);
      }
      {
        const rowsBefore = wire.length;
        for (const file of files) {
          const sizes: number[] = [];
          for (const [coding, acceptEncoding] of CODINGS) {
            const response = await fetchRaw(`${base}/${file.split('\\').join('/')}`, acceptEncoding);
            const decoded = coding === 'br' ? brotliDecompressSync(response.body) : coding === 'gzip' ? gunzipSync(response.body) : response.body;
            if (response.status !== 200 || response.coding !== coding || response.contentLength !== response.bodyBytes || !decoded.equals(readFileSync(join(dist, file)))) {
              throw new Error(`${file} ${coding}: status ${response.status}, coding ${response.coding}, Content-Length ${response.contentLength} vs ${response.bodyBytes} bytes, or not the file once decoded`);
            }
            sizes.push(response.bodyBytes);
          }
          wire.push(`| ${runtime} | ${file} | ${sizes[2]} | ${sizes[1]} (${((100 * sizes[1]!) / sizes[2]!).toFixed(0)} %) | ${sizes[0]} (${((100 * sizes[0]!) / sizes[2]!).toFixed(0)} %) |`);
        }
        if (wire.length === rowsBefore) throw new Error('no files measured');
      }
      for (const [coding, acceptEncoding] of CODINGS) rows.push(await measure(`${runtime}, ${coding}`, jsUrl, acceptEncoding));
      child.kill('SIGTERM');
    }

    console.log(`\n## Body bytes on the wire (node:zlib, br quality 5, gzip level 6), each checked to decode to the file\n`);
    console.log(['| runtime | file | identity | gzip | br |', '|---|---|---:|---:|---:|', ...wire].join('\n'));
    console.log(`\n## ${mainJs}: first request (makes the copy) vs median of the next 20, ms, one client\n`);
    console.log(['| runtime | coding | first | later (p50) |', '|---|---|---:|---:|', ...cold].join('\n'));
    console.log(`\n## GET ${mainJs}, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per row after ${WARMUP_SECONDS} s warm-up\n`);
    console.log(
      [
        '| BFF runtime, coding | req/s | p50 ms | p99 ms | errors | body bytes | body MB/s |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows.map((r) => `| ${r.name} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.bodyBytes} | ${r.megabytesPerSecond} |`),
      ].join('\n'),
    );
    console.log(`\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.versions.node}`);
    console.log(`command: node_modules/.bin/node bench/bff-assets.bench.ts --seconds=${SECONDS} --connections=${CONNECTIONS} --runtimes=${RUNTIMES.join(',')}`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(dist, { recursive: true, force: true });
  }
}

if (args.has('serve')) {
  await serveBff(args.get('serve')!, Number(args.get('port')));
} else {
  await main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
