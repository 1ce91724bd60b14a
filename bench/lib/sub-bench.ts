/**
 * Benchmarks other files own (ingest, ETL, CDC) run as child processes; their last stdout line
 * that parses as a JSON object is the result. A missing file, a crash or a timeout becomes a
 * reason the table prints ("n/a (why)"), never an exception that ends the whole run.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';
import { RUNTIME_BIN } from './apps.ts';

export type SubBenchOutcome = { ok: true; json: Record<string, unknown> | undefined; stdout: string } | { ok: false; reason: string; stdout: string };

/** The last line of `stdout` that is a JSON object, if any. */
export function lastJsonLine(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') && l.endsWith('}'));
  for (const line of lines.reverse()) {
    try {
      const value = JSON.parse(line) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      /* a log line that only looks like JSON */
    }
  }
  return undefined;
}

export async function runSubBench(file: string, args: string[], options: { timeoutSeconds: number; env?: NodeJS.ProcessEnv; echo?: (line: string) => void }): Promise<SubBenchOutcome> {
  if (!existsSync(join(ROOT, file))) return { ok: false, reason: `${file} is missing`, stdout: '' };
  return new Promise((resolve) => {
    const child = spawn(RUNTIME_BIN.node, [file, ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      for (const line of chunk.toString().split('\n')) if (line.trim() && !line.trim().startsWith('{')) options.echo?.(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, options.timeoutSeconds * 1000);
    child.on('error', (error) => resolve({ ok: false, reason: `${file}: ${error.message}`, stdout }));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ ok: false, reason: `${file} timed out after ${options.timeoutSeconds} s`, stdout });
      if (code !== 0) {
        const last = (stderr.trim().split('\n').filter((l) => /error/i.test(l)).at(-1) ?? stderr.trim().split('\n').at(-1) ?? '').trim();
        return resolve({ ok: false, reason: `${file} exited with ${code}${last ? `: ${last.slice(0, 160)}` : ''}`, stdout });
      }
      resolve({ ok: true, json: lastJsonLine(stdout), stdout });
    });
  });
}

/** A number from a JSON field or a figure in text ("1,234"); NaN when absent. */
export const num = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(/,/g, '')) : Number.NaN);

/** ETL figures from the JSON line, or from the text etl.bench.ts prints today. */
export function parseEtlOutput(stdout: string, json: Record<string, unknown> | undefined): { rowsPerS: number; peakRssMiB: number; anchorRowsPerS: number } {
  const text = stdout.split('\n').filter((l) => l.startsWith('[full load]')).join('\n');
  return {
    rowsPerS: Number.isFinite(num(json?.raw_rows_per_s)) ? num(json?.raw_rows_per_s) : num(/([\d,]+) raw rows\/s/.exec(text)?.[1]),
    peakRssMiB: Number.isFinite(num(json?.peak_rss_mib)) ? num(json?.peak_rss_mib) : num(/peak (\d+) MiB/.exec(text)?.[1]),
    anchorRowsPerS: num(json?.anchor_rows_per_s),
  };
}

/** CDC lag from the JSON line, or from the text cdc-lag.bench.ts prints today. */
export function parseCdcOutput(stdout: string, json: Record<string, unknown> | undefined): { ratePerS: number; p50: number; p90: number; p99: number } {
  const line = stdout.split('\n').find((l) => l.startsWith('cdc lag')) ?? '';
  // Either "…: p50 120 ms, p90 …" on the summary line or one "  p50   120 ms" line per percentile.
  const fromText = (name: string) => num(new RegExp(`(?:^|[\\s,:])${name}\\s+(\\d+(?:\\.\\d+)?) ms`, 'm').exec(stdout)?.[1]);
  const pick = (key: string, name: string) => (Number.isFinite(num(json?.[key])) ? num(json?.[key]) : fromText(name));
  return {
    ratePerS: Number.isFinite(num(json?.rate_per_s)) ? num(json?.rate_per_s) : num(/at ([\d.]+) changes\/s/.exec(line)?.[1]),
    p50: pick('p50_ms', 'p50'),
    p90: pick('p90_ms', 'p90'),
    p99: pick('p99_ms', 'p99'),
  };
}
