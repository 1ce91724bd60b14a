/**
 * wrk (Debian's 4.1) as the load generator: a C event loop, so at c=32 on two cores the client
 * costs far less CPU than a JavaScript one would, and nginx is measured by the same client.
 *
 * Every run gets a small Lua script whose done() hook prints one machine-readable line
 * (`WRK_RESULT {...}`, exact counts and latency percentiles in microseconds); the human output is
 * parsed as a fallback so an older or patched wrk still yields figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  bytesPerRequest: number;
  /** Socket errors (connect, read, write, timeout) plus responses that were not 2xx/3xx. */
  errors: number;
  non2xx3xx: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  threads?: number;
  headers?: Record<string, string>;
  /**
   * Paths (with query) requested one after another, each once; the run stops when they are used
   * up, so a cache-miss measurement never turns into hits by wrapping around.
   */
  paths?: string[];
  timeoutSeconds?: number;
}

const RESULT_MARK = 'WRK_RESULT ';

const luaString = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** The Lua script: optional path list, and the done() hook that prints the result line. */
export function wrkScript(paths?: string[]): string {
  const parts: string[] = [];
  if (paths && paths.length > 0) {
    parts.push(`local paths = {\n${paths.map(luaString).join(',\n')}\n}`);
    parts.push(`local next_index = 0
request = function()
  next_index = next_index + 1
  if next_index > #paths then
    wrk.thread:stop()
    next_index = #paths
  end
  return wrk.format(nil, paths[next_index])
end`);
  }
  parts.push(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${RESULT_MARK}{"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end`);
  return parts.join('\n\n') + '\n';
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case 'us':
      return n / 1000;
    case 'ms':
      return n;
    case 's':
      return n * 1000;
    case 'm':
      return n * 60_000;
    default:
      return Number.NaN;
  }
}

function toBytes(value: string, unit: string): number {
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  return Number(value) * (scale[unit] ?? Number.NaN);
}

/** Figures from wrk's output: the done() line when present, else its human summary (needs --latency). */
export function parseWrkOutput(output: string): WrkResult {
  const line = output.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (line) {
    const r = JSON.parse(line.slice(RESULT_MARK.length)) as Record<string, number>;
    const durationSeconds = r.durationUs! / 1e6;
    const socketErrors = r.connect! + r.read! + r.write! + r.timeout!;
    return {
      requests: r.requests!,
      durationSeconds,
      requestsPerSecond: durationSeconds > 0 ? r.requests! / durationSeconds : 0,
      p50Ms: r.p50Us! / 1000,
      p90Ms: r.p90Us! / 1000,
      p99Ms: r.p99Us! / 1000,
      bytesPerRequest: r.requests! > 0 ? r.bytes! / r.requests! : 0,
      errors: socketErrors + r.status!,
      non2xx3xx: r.status!,
    };
  }
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB) read/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!total || !rps) throw new Error(`wrk output has no result: ${output.trim().slice(0, 300) || '(empty)'}`);
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return m ? toMs(m[1]!, m[2]!) : Number.NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const requests = Number(total[1]);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests,
    durationSeconds: toMs(total[2]!, total[3]!) / 1000,
    requestsPerSecond: Number(rps[1]),
    p50Ms: percentile(50),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    bytesPerRequest: requests > 0 ? toBytes(total[4]!, total[5]!) / requests : 0,
    errors: socketErrors + non2xx,
    non2xx3xx: non2xx,
  };
}

/** One wrk run; rejects when wrk fails or every request failed (a broken target is not a figure). */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'run.lua');
    writeFileSync(script, wrkScript(options.paths));
    const args = ['-t', String(options.threads ?? 1), '-c', String(options.connections), '-d', `${options.seconds}s`, '--latency', '--timeout', `${options.timeoutSeconds ?? 10}s`, '-s', script];
    for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
    args.push(options.url);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.stderr.on('data', (chunk) => (text += chunk));
      const killer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(killer);
        if (code === 0) resolve(text);
        else reject(new Error(`wrk exited with ${code}: ${text.trim().slice(0, 300)}`));
      });
    });
    const result = parseWrkOutput(output);
    if (result.requests === 0) throw new Error(`wrk completed no request against ${options.url}`);
    if (result.non2xx3xx === result.requests) throw new Error(`every response from ${options.url} was an error status`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
