/**
 * S3 GetObject benchmark, loopback only, bounded by time: wrk replays one presigned GET of a
 * report-sized object against each endpoint given, one after another, and reads the server's own
 * CPU time from /proc before and after, so the figures are requests/s and server CPU per request.
 *
 *   node_modules/.bin/node bench/s3-get.bench.ts [--seconds=5] [--connections=8] [--bytes=4096] \
 *     [--target=NAME=http://127.0.0.1:PORT ...]   (default: the stack's S3_ENDPOINT)
 *
 * Every target must accept the stack's key pair (S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY) and have
 * the bucket S3_BUCKET. The first target is the anchor: the others are reported as ratios to it,
 * since absolute figures on a shared 2-core machine move with everything else running. wrk and the
 * server share the cores, so compare rows of one run, not runs of different days.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadStackEnv } from '../stack/lib/env.ts';
import { localS3Client } from '../stack/services/s3.ts';
import { s3Settings } from '../stack/services/s3-server.ts';
import { descendantsOf } from '../tools/kit/proc.ts';
import { runWrk } from './lib/wrk.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SECONDS = Number(option('seconds', '5'));
const CONNECTIONS = Number(option('connections', '8'));
const BYTES = Number(option('bytes', '4096'));
if (!(SECONDS > 0 && SECONDS <= 10)) throw new Error('--seconds must be 1..10 (a shared machine)');
if (!(CONNECTIONS > 0 && CONNECTIONS <= 64)) throw new Error('--connections must be 1..64');

const env = loadStackEnv();
const base = s3Settings(env);
const targets = argv
  .filter((a) => a.startsWith('--target='))
  .map((a) => {
    const [name, endpoint] = a.slice('--target='.length).split(/=(.*)/s) as [string, string];
    return { name, settings: s3Settings({ ...env, S3_ENDPOINT: endpoint }) };
  });
if (targets.length === 0) targets.push({ name: 'stack', settings: base });

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** The pid listening on a loopback TCP port, through ss (the server may not be ours to have a pid file for). */
function listenerPid(port: number): number {
  const out = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).stdout;
  const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
  if (!Number.isInteger(pid)) throw new Error(`no process listens on port ${port} (ss: ${out.trim() || 'nothing'})`);
  return pid;
}

/** utime + stime of a process and its descendants, in seconds. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of [pid, ...descendantsOf(pid)]) {
    try {
      const fields = readFileSync(`/proc/${member}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* exited meanwhile */
    }
  }
  return ticks / TICKS_PER_SECOND;
}

async function presignGet(settings: typeof base, key: string): Promise<string> {
  const url = new URL(`${settings.endpoint}/${settings.bucket}/${key}`);
  const signer = new SignatureV4({ service: 's3', region: settings.region, credentials: settings, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.presign(
    { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } },
    { expiresIn: 600 },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${url.origin}${url.pathname}?${query}`;
}

const body = JSON.stringify({ user_id: 'bench', hours: Array.from({ length: 24 }, (_, h) => ({ h, n: 1 })), pad: '' });
const payload = body.slice(0, -2) + 'x'.repeat(Math.max(0, BYTES - body.length)) + '"}';
const rows: { name: string; rps: number; p50Ms: number; p99Ms: number; cpuUsPerRequest: number; cpuShare: number }[] = [];

for (const { name, settings } of targets) {
  const key = `bench/s3-get/${randomUUID()}.json`;
  const client = localS3Client(settings, 10_000);
  try {
    await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: payload, ContentType: 'application/json' }));
    const url = await presignGet(settings, key);
    const check = await fetch(url);
    if (check.status !== 200 || (await check.text()) !== payload) throw new Error(`${name}: the presigned GET did not return the object (${check.status})`);
    const pid = listenerPid(settings.port);
    await runWrk({ url, connections: CONNECTIONS, seconds: 1 });
    const cpuBefore = treeCpuSeconds(pid);
    const result = await runWrk({ url, connections: CONNECTIONS, seconds: SECONDS });
    const cpu = treeCpuSeconds(pid) - cpuBefore;
    if (result.errors > 0) throw new Error(`${name}: ${result.errors} failed requests of ${result.requests}`);
    rows.push({
      name,
      rps: result.requestsPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      cpuUsPerRequest: (cpu / result.requests) * 1e6,
      cpuShare: cpu / result.durationSeconds,
    });
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: key })).catch(() => undefined);
    client.destroy();
  }
}

console.log(`S3 GetObject, ${payload.length} B object, presigned URL replayed by wrk, c=${CONNECTIONS}, ${SECONDS} s per target`);
console.log(`command: node_modules/.bin/node bench/s3-get.bench.ts ${argv.join(' ')}`.trim());
console.log('target'.padEnd(14), 'req/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'server CPU µs/req'.padStart(18), 'server cores'.padStart(13), 'req/s ratio'.padStart(12), 'CPU/req ratio'.padStart(14));
const anchor = rows[0]!;
for (const row of rows) {
  console.log(
    row.name.padEnd(14),
    row.rps.toFixed(0).padStart(9),
    row.p50Ms.toFixed(2).padStart(8),
    row.p99Ms.toFixed(2).padStart(8),
    row.cpuUsPerRequest.toFixed(0).padStart(18),
    row.cpuShare.toFixed(2).padStart(13),
    (row.rps / anchor.rps).toFixed(2).padStart(12),
    (row.cpuUsPerRequest / anchor.cpuUsPerRequest).toFixed(2).padStart(14),
  );
}
