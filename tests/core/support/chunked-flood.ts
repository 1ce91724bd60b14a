import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../../tools/kit/paths.ts';
import { freePort } from '../../helpers/free-port.ts';

/**
 * A client that POSTs a huge chunked body (no Content-Length) over a raw socket, producing each
 * 64 KiB chunk only when the socket takes it (so the test itself holds one chunk), and a server
 * started from its real entry file as a child whose resident memory is read from /proc.
 */

export const GIB = 1024 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x61);
// The body starts as valid JSON (an ever longer string) so no parser can refuse it early.
const FIRST_CHUNK = CHUNK.slice();
FIRST_CHUNK.set(new TextEncoder().encode('{"user_ids":["'));

export interface FloodResult {
  /** Status line's code; null when the server closed without answering. */
  status: number | null;
  body: string;
  /** From the first byte sent to the status line. */
  msToAnswer: number | null;
  /** Bytes the client managed to hand to the socket before the answer (or the close). */
  sentBytes: number;
  error?: string;
}

/** Sends up to `totalBytes` chunked; stops producing as soon as an answer (or a close) arrives. */
export function chunkedFlood(options: { port: number; path: string; headers?: Record<string, string>; totalBytes?: number; timeoutMs?: number }): Promise<FloodResult> {
  const total = options.totalBytes ?? GIB;
  return new Promise((resolve) => {
    const socket = connect(options.port, '127.0.0.1');
    let sent = 0;
    let started = 0;
    let answered = false;
    let received = '';
    let finished = false;
    const finish = (result: Omit<FloodResult, 'sentBytes'>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, sentBytes: sent });
    };
    const timer = setTimeout(() => finish({ status: null, body: received, msToAnswer: null, error: 'timeout' }), options.timeoutMs ?? 10_000);
    const pump = () => {
      while (!answered && !finished && sent < total) {
        const size = Math.min(CHUNK.byteLength, total - sent);
        const chunk = sent === 0 ? FIRST_CHUNK : CHUNK;
        sent += size;
        // All three parts of the chunk are queued whatever write() says; false only asks to wait.
        socket.write(`${size.toString(16)}\r\n`);
        socket.write(size === chunk.byteLength ? chunk : chunk.subarray(0, size));
        const ok = socket.write('\r\n');
        if (!ok) return void socket.once('drain', pump);
      }
      if (!answered && !finished && sent >= total) socket.write('0\r\n\r\n');
    };
    socket.on('connect', () => {
      const headers = { host: `127.0.0.1:${options.port}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...options.headers };
      socket.write(`POST ${options.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      started = performance.now();
      pump();
    });
    socket.on('data', (data) => {
      received += data.toString('latin1');
      const head = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (head && !answered) answered = true;
      const split = received.indexOf('\r\n\r\n');
      // Wait for the (small) error body, but not for ever.
      if (head && split >= 0) {
        const msToAnswer = performance.now() - started;
        setTimeout(() => finish({ status: Number(head[1]), body: received.slice(split + 4), msToAnswer }), 50);
      }
    });
    socket.on('error', (error) => {
      const head = /^HTTP\/1\.1 (\d{3})/.exec(received);
      finish({ status: head ? Number(head[1]) : null, body: received, msToAnswer: head ? performance.now() - started : null, error: error.message });
    });
    socket.on('close', () => {
      const head = /^HTTP\/1\.1 (\d{3})/.exec(received);
      finish({ status: head ? Number(head[1]) : null, body: received, msToAnswer: head ? performance.now() - started : null, error: head ? undefined : 'closed without an answer' });
    });
  });
}

export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every 10 ms until stopped; returns the peak. */
export function watchPeakRss(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      /* exited: the test sees it elsewhere */
    }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssBytes(pid));
      return peak;
    },
  };
}

export interface ServiceChild {
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a service's entry file (`<service>/serve-node.ts` or `serve-bun.ts`) on a free port and waits for /health/live. */
export async function startServiceChild(entry: string, env: Record<string, string | undefined>): Promise<ServiceChild> {
  const port = await freePort();
  const runtime = entry.endsWith('serve-bun.ts') ? 'bun' : 'node';
  const child = spawn(join(ROOT, 'node_modules', '.bin', runtime), [entry], { cwd: ROOT, env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${entry} did not answer /health/live:\n${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Floods `path` and, while the flood runs, asks /health/live; returns the flood's result, the
 * child's RSS growth (peak during the flood minus before) and the health answer's status and time.
 */
export async function floodAndWatch(service: ServiceChild, path: string, headers: Record<string, string> = {}) {
  const pid = service.child.pid!;
  // Warm the route's code path so JIT and lazy imports are not counted as the flood's memory. The
  // body is one no route's strict schema accepts: the warm-up must never start a job.
  const warm = await fetch(`http://127.0.0.1:${service.port}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"flood_warm_up":1}' });
  await warm.arrayBuffer();
  if (warm.status < 400) throw new Error(`the warm-up request to ${path} was accepted (${warm.status})`);
  // One unmeasured flood too: Bun's first chunked request body grows its socket buffers once (seen:
  // +68 MiB on the first flood of a fresh Bun process, +0 on every later one). Buffers kept for
  // reuse are not the body being held; a server that buffered bodies would grow on the measured
  // flood all the same.
  await chunkedFlood({ port: service.port, path, headers });
  const before = rssBytes(pid);
  const watch = watchPeakRss(pid);
  const flood = chunkedFlood({ port: service.port, path, headers });
  const healthStarted = performance.now();
  const health = fetch(`http://127.0.0.1:${service.port}/health/live`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => ({ status: r.status, ms: performance.now() - healthStarted }),
    (error: unknown) => ({ status: 0, ms: performance.now() - healthStarted, error: String(error) }),
  );
  const result = await flood;
  // A little longer: memory the server took for the flood shows up after the answer too.
  await new Promise((r) => setTimeout(r, 200));
  const peak = watch.stop();
  return { result, rssGrowthBytes: peak - before, health: await health, alive: service.child.exitCode === null };
}
