import { afterAll, describe, expect, test } from 'bun:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from 'node:http';
import { signPurgeRequest, signReportUrl } from '../../common/cdn/signing.ts';
import { localS3Client } from '../../stack/services/s3.ts';
import { s3Settings } from '../../stack/services/s3-server.ts';
import { freePort } from '../helpers/free-port.ts';
import { selectedRuntimes } from './contract/harness.ts';
import { BUN, NODE, stackEnv, startProcess } from './support.ts';

/**
 * The CDN edge with a worker per core (EDGE_WORKERS) from its Node and Bun entry files, on real S3:
 * every process keeps its own cache, and a purge answered by one of them must have reached all.
 * Connections are fresh per request, so SO_REUSEPORT spreads them over the processes.
 */
const s3 = localS3Client(s3Settings(stackEnv), 10_000);
const seeded: string[] = [];
const CONNECTIONS = 24;

afterAll(async () => {
  for (const key of seeded) await s3.send(new DeleteObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: key })).catch(() => {});
  s3.destroy();
});

function freshGet(url: string): Promise<{ status: number; cache: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: String(res.headers['x-cache-status']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getMany(url: string): Promise<Array<{ status: number; cache: string; body: string }>> {
  const answers = [];
  for (let i = 0; i < CONNECTIONS; i++) answers.push(await freshGet(url));
  return answers;
}

const runtimes = selectedRuntimes().filter((runtime): runtime is 'node' | 'bun' => runtime === 'node' || runtime === 'bun');

describe.each(runtimes)('CDN edge with two worker processes on %s', (runtime) => {
  test('each process caches for itself; a purge reaches every process before it is answered', async () => {
    const port = await freePort();
    const key = `edge-workers-${runtime}-${crypto.randomUUID().slice(0, 8)}/daily/2026-11-24/report.json`;
    seeded.push(key);
    const put = (version: number) => s3.send(new PutObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: key, Body: JSON.stringify({ version, pad: 'x'.repeat(400) }), ContentType: 'application/json' }));
    const edge = await startProcess(runtime === 'node' ? NODE : BUN, [`edge/runtime/${runtime}.ts`, '--app=cdn'], {
      env: { ...process.env, ...stackEnv, CDN_PORT: String(port), HOST: '127.0.0.1', EDGE_WORKERS: '2', CDN_FRESH_SECONDS: '3600', LOG_LEVEL: 'warn' },
      port,
      timeoutMs: 60_000,
    });
    try {
      // Both processes bound the port (each says so with its pid).
      const deadline = Date.now() + 30_000;
      while ((edge.output().match(/"server.listening"/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect((edge.output().match(/"server.listening"/g) ?? []).length).toBe(2);

      await put(1);
      const url = await signReportUrl({ cdnUrl: `http://127.0.0.1:${port}`, key, expiresAtSeconds: Math.floor(Date.now() / 1000) + 600, signingKey: stackEnv.CDN_SIGNING_KEY! });
      const before = await getMany(url);
      expect(before.every((answer) => answer.status === 200 && JSON.parse(answer.body).version === 1)).toBe(true);
      // One miss per process: both served, each filled its own cache.
      expect(before.filter((answer) => answer.cache === 'MISS')).toHaveLength(2);

      await put(2);
      const body = JSON.stringify({ keys: [key] });
      const headers = await signPurgeRequest(body, stackEnv.CDN_SIGNING_KEY!, Math.floor(Date.now() / 1000));
      const purged = await fetch(`http://127.0.0.1:${port}/purge`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(purged.status).toBe(200);

      // Without the relay, the process that did not take the purge would still answer version 1 (HIT).
      const after = await getMany(url);
      expect(after.map((answer) => JSON.parse(answer.body).version)).toEqual(Array(CONNECTIONS).fill(2));
      expect(after.filter((answer) => answer.cache === 'MISS')).toHaveLength(2);
    } finally {
      await edge.stop();
    }
  }, 120_000);
});
