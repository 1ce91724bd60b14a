import { afterAll, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { ROOT } from '../../stack/lib/paths.ts';

/**
 * `npm run bench` keeps working: a one-second, one-round run of a subset (CDN hit against nginx,
 * core's warm summary against the bare ClickHouse query, RSS) against the real stack. It checks
 * that every cell of those rows holds a figure; timings are never asserted.
 */
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunRow {
  path: string;
  node: string;
  bun: string;
  anchor: string;
  ratio: string;
  goal: string;
  met: string;
}

test('the bench runner measures a subset of paths and writes the document', async () => {
  const doc = join(dir, 'performance.md');
  const args = ['bench/run.ts', '--seconds=1', '--rounds=1', '--warmup=0', '--settle=1', '--only=cdn,core,rss', `--doc=${doc}`];
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), args, { cwd: ROOT, env: { ...process.env, ...loadStackEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out }));
  });
  expect(code, stdout.slice(-2000)).toBe(0);
  const last = stdout.trim().split('\n').at(-1)!;
  const result = JSON.parse(last) as { bench: string; rows: RunRow[] };
  expect(result.bench).toBe('run');

  const numeric = /^\d[\d,.]*( [a-zA-Z/]+)?( \(|$)/;
  const cdn = result.rows.filter((r) => r.path.startsWith('CDN hit'));
  expect(cdn.map((r) => r.path)).toEqual([expect.stringContaining('gzip'), expect.stringContaining('identity')]);
  const core = result.rows.filter((r) => r.path.startsWith('core direct'));
  expect(core).toHaveLength(2);
  for (const row of [...cdn, ...core]) {
    expect(row.node, row.path).toMatch(numeric);
    expect(row.bun, row.path).toMatch(numeric);
    expect(row.anchor, row.path).toMatch(numeric);
    expect(row.ratio, row.path).toMatch(/Node \d+(\.\d+)?× \/ Bun \d+(\.\d+)?×/);
    expect(['yes', 'no', 'Node yes / Bun no', 'Node no / Bun yes']).toContain(row.met);
  }
  // RSS of the four apps the paths started: before → after → settled, each a number.
  const rss = result.rows.filter((r) => r.path.startsWith('RSS, core') || r.path.startsWith('RSS, CDN'));
  expect(rss).toHaveLength(2);
  for (const row of rss) for (const cell of [row.node, row.bun]) expect(cell, row.path).toMatch(/^\d+ → \d+ → \d+ MiB$/);

  const written = readFileSync(doc, 'utf8');
  expect(written).toContain('npm run bench -- --seconds=1 --rounds=1');
  expect(written).toContain('| path | Node | Bun | anchor | ratio | goal | goal met |');
  expect(written).toMatch(/- nproc: \d+/);
}, 300_000);
