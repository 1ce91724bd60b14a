import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createNodeUpstream } from '../../edge/runtime/node-upstream.ts';
import { freePort } from '../helpers/free-port.ts';
import { loginThroughBff, TestBrowser } from '../helpers/keycloak-login.ts';
import { APP_ORIGIN, NODE, stackEnv, startProcess, type RunningProcess } from './support.ts';

/**
 * The BFF's node:http upstream client (edge/runtime/node-upstream.ts). First through the real Node
 * entry (edge/runtime/node.ts --app=bff, two worker processes) in front of a stand-in for core: it
 * answers what core never would (huge, chunked, gzip-encoded, never), and then goes away. Then the
 * client on its own, for what the BFF does not reach (no caller deadline, retries, bodies).
 */
const BIG_BYTES = 3 * 1024 * 1024;
const LENGTH_BYTES = 1024 * 1024;
// The BFF cuts a streamed answer at this deadline too: long enough for 3 MiB through a loaded
// 2-core machine (600 ms cut it there), short enough for the silent-core test.
const UPSTREAM_TIMEOUT_MS = 3_000;
const LOGIN_TIMEOUT_MS = 60_000;

const seen: Array<{ path: string; authorization: string | undefined; cookie: string | undefined; body: string }> = [];

function standInCore(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const path = new URL(req.url ?? '/', 'http://core').pathname;
    seen.push({ path, authorization: req.headers.authorization, cookie: req.headers.cookie, body });
    if (path === '/health/live') return void res.end('{"status":"ok"}');
    if (path === '/api/echo') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', 'core=1');
      res.setHeader('x-core', 'yes');
      return void res.end(JSON.stringify({ method: req.method, bearer: /^Bearer .+/.test(req.headers.authorization ?? ''), length: req.headers['content-length'] ?? null, body }));
    }
    if (path === '/api/big') {
      // Chunked, no length: streamed through, never buffered whole.
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let sent = 0; sent < BIG_BYTES; sent += chunk.length) res.write(chunk);
      return void res.end();
    }
    if (path === '/api/big-length') {
      res.setHeader('content-length', String(LENGTH_BYTES));
      return void res.end(Buffer.alloc(LENGTH_BYTES, 'b'));
    }
    if (path === '/api/gzip') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-encoding', 'gzip');
      return void res.end(gzipSync(JSON.stringify({ packed: 'z'.repeat(2000) })));
    }
    if (path === '/api/never') return; // no answer at all: the BFF's deadline must cut it
    res.statusCode = 404;
    res.end('{}');
  });
}

/** A request on a fresh connection, so SO_REUSEPORT spreads them over the worker processes. */
function freshGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      // A body cut off by the BFF ends with 'close' and no 'end': fail instead of waiting forever.
      res.on('close', () => !res.complete && reject(new Error(`answer cut off after ${chunks.reduce((n, c) => n + c.length, 0)} bytes`)));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('BFF on Node (two workers) through the node:http upstream client', () => {
  let core: Server;
  let coreUrl: string;
  let bff: RunningProcess;
  let cookie: string;

  beforeAll(async () => {
    core = createServer(standInCore);
    await new Promise<void>((resolve) => core.listen(0, '127.0.0.1', resolve));
    coreUrl = `http://127.0.0.1:${(core.address() as AddressInfo).port}`;
    const port = await freePort();
    bff = await startProcess(NODE, ['edge/runtime/node.ts', '--app=bff'], {
      env: { ...process.env, ...stackEnv, BFF_PORT: String(port), HOST: '127.0.0.1', CORE_URL: coreUrl, EDGE_WORKERS: '2', UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), AUTH_RATE_LIMIT: '100000', LOG_LEVEL: 'warn' },
      port,
      timeoutMs: 60_000,
    });
    const deadline = Date.now() + 30_000;
    while ((bff.output().match(/"server.listening"/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    cookie = (await loginThroughBff({ bffUrl: bff.url, username: 'lena.schmidt', env: stackEnv, browser: new TestBrowser() })).cookie;
  }, LOGIN_TIMEOUT_MS);

  afterAll(async () => {
    await bff?.stop();
    core?.closeAllConnections();
    core?.close();
  });

  test('both processes listen; every fresh connection gets the proxied answer, bearer in, cookies and hop-by-hop out', async () => {
    expect((bff.output().match(/"server.listening"/g) ?? []).length).toBe(2);
    const answers = await Promise.all(Array.from({ length: 16 }, () => freshGet(`${bff.url}/api/echo?x=1`, { cookie })));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ method: 'GET', bearer: true, length: null, body: '' });
      expect(answer.headers['x-core']).toBe('yes');
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const echoes = seen.filter((request) => request.path === '/api/echo');
    expect(echoes.length).toBeGreaterThanOrEqual(16);
    expect(echoes.every((request) => request.cookie === undefined && request.authorization?.startsWith('Bearer '))).toBe(true);
  });

  test('a POST body reaches core with its length', async () => {
    const response = await fetch(`${bff.url}/api/echo`, { method: 'POST', headers: { cookie, origin: APP_ORIGIN, 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ method: 'POST', bearer: true, length: '7', body: '{"a":1}' });
  });

  test('bodies past the buffer bound stream through whole: chunked (3 MiB) and with a length (1 MiB)', async () => {
    const big = await freshGet(`${bff.url}/api/big`, { cookie });
    expect(big.status).toBe(200);
    expect(big.body.length).toBe(BIG_BYTES);
    expect(big.body.every((byte) => byte === 0x61)).toBe(true);
    const sized = await freshGet(`${bff.url}/api/big-length`, { cookie });
    expect(sized.status).toBe(200);
    expect(sized.body.length).toBe(LENGTH_BYTES);
  });

  test('a gzip answer from core arrives decoded, without its encoding header', async () => {
    const answer = await freshGet(`${bff.url}/api/gzip`, { cookie, 'accept-encoding': 'identity' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(answer.body.toString())).toEqual({ packed: 'z'.repeat(2000) });
  });

  test('core that never answers: 503 with Retry-After at UPSTREAM_TIMEOUT_MS', async () => {
    const started = performance.now();
    const answer = await freshGet(`${bff.url}/api/never`, { cookie });
    const took = performance.now() - started;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(JSON.parse(answer.body.toString()).error).toMatchObject({ code: 'service_unavailable', details: { dependency: 'core' } });
    expect(took).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(UPSTREAM_TIMEOUT_MS + 5_000);
  });

  test('core gone (its pooled connections closed, the port refused): 503 with Retry-After from every process, then logout ends the session in both', async () => {
    // Fill both processes' pools first, so the next calls meet sockets core has closed.
    await Promise.all(Array.from({ length: 8 }, () => freshGet(`${bff.url}/api/echo`, { cookie })));
    await new Promise<void>((resolve) => {
      core.close(() => resolve());
      core.closeAllConnections();
    });
    const answers = await Promise.all(Array.from({ length: 12 }, () => freshGet(`${bff.url}/api/echo`, { cookie })));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('2');
      expect(JSON.parse(answer.body.toString()).error).toMatchObject({ code: 'service_unavailable', details: { dependency: 'core' } });
    }
    // The session memo is per process; the logout taken by one process must end it in the other.
    const out = await fetch(`${bff.url}/auth/logout`, { method: 'POST', headers: { cookie, origin: APP_ORIGIN } });
    expect(out.status).toBe(200);
    const after = await Promise.all(Array.from({ length: 12 }, () => freshGet(`${bff.url}/auth/me`, { cookie })));
    expect(after.map((answer) => answer.status)).toEqual(Array(12).fill(401));
  });
});

describe('node:http upstream client on its own', () => {
  let server: Server;
  let base: string;
  let closeNextReused = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/silent') return;
      if (req.url === '/drop-after-headers') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (req.url === '/keepalive' && closeNextReused) {
        // A pooled socket core dropped: the request dies before any answer.
        closeNextReused = false;
        return void req.socket.destroy();
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`ok ${req.method}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  test('without a caller deadline, headersTimeoutMs ends a silent upstream with a TimeoutError', async () => {
    const client = createNodeUpstream({ headersTimeoutMs: 200 });
    try {
      const error = await client(`${base}/silent`, {}).then(() => undefined, (reason: unknown) => reason as Error);
      expect(error?.name).toBe('TimeoutError');
    } finally {
      client.close();
    }
  });

  test("an aborted signal rejects with the signal's reason, before or during the call", async () => {
    const client = createNodeUpstream();
    try {
      const reason = new DOMException('deadline', 'TimeoutError');
      const early = await client(`${base}/x`, { signal: AbortSignal.abort(reason) }).then(() => undefined, (error: unknown) => error);
      expect(early).toBe(reason);
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 100);
      const late = await client(`${base}/silent`, { signal: controller.signal }).then(() => undefined, (error: unknown) => error);
      expect(late).toBe(reason);
    } finally {
      client.close();
    }
  });

  test('a body cut short after the headers rejects instead of answering truncated', async () => {
    const client = createNodeUpstream();
    try {
      const error = await client(`${base}/drop-after-headers`, {}).then(() => undefined, (reason: unknown) => reason as Error);
      expect(error).toBeInstanceOf(Error);
    } finally {
      client.close();
    }
  });

  test('a refused connection rejects (the BFF answers 503 with Retry-After for it)', async () => {
    const client = createNodeUpstream();
    try {
      const error = await client(`http://127.0.0.1:${await freePort()}/x`, {}).then(() => undefined, (reason: unknown) => reason as NodeJS.ErrnoException);
      expect(error?.code).toBe('ECONNREFUSED');
    } finally {
      client.close();
    }
  });

  test('reuses its keep-alive connection, and sends an idempotent request again when the pooled socket was dropped', async () => {
    const client = createNodeUpstream();
    const connections: number[] = [];
    const onConnection = () => connections.push(1);
    server.on('connection', onConnection);
    try {
      expect(await (await client(`${base}/keepalive`, {})).text()).toBe('ok GET');
      expect(await (await client(`${base}/keepalive`, {})).text()).toBe('ok GET');
      expect(connections).toHaveLength(1);
      closeNextReused = true;
      const retried = await client(`${base}/keepalive`, {});
      expect(retried.status).toBe(200);
      expect(await retried.text()).toBe('ok GET');
      expect(connections).toHaveLength(2);
    } finally {
      server.off('connection', onConnection);
      client.close();
    }
  });

  test('non-http URLs go to the fallback', async () => {
    const calls: string[] = [];
    const client = createNodeUpstream({ fallback: async (url) => (calls.push(url), new Response('fallback')) });
    try {
      expect(await (await client('https://keycloak.example/certs', {})).text()).toBe('fallback');
      expect(calls).toEqual(['https://keycloak.example/certs']);
    } finally {
      client.close();
    }
  });
});
