import { afterAll, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { ROOT } from '../../tools/kit/paths.ts';

/**
 * `npm run bench` keeps working: a one-second, one-round run of a subset against the real stack —
 * CDN hit (both edges against a private nginx), BFF → core (real login, core direct as anchor) and
 * RSS. It checks that every cell of those rows holds a figure; timings are never asserted. (The
 * ClickHouse anchors are left out here: at c=32, ClickHouse 18.16 on a busy 2-core box can finish
 * no query within one second, which would be a timing, not a broken runner.)
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
  const args = ['bench/run.ts', '--seconds=1', '--rounds=1', '--warmup=0', '--settle=1', '--only=cdn,bff,rss', `--doc=${doc}`];
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
  const bff = result.rows.filter((r) => r.path.startsWith('BFF → core'));
  expect(bff).toHaveLength(2);
  for (const row of [...cdn, ...bff]) {
    expect(row.node, row.path).toMatch(numeric);
    expect(row.bun, row.path).toMatch(numeric);
    expect(row.anchor, row.path).toMatch(numeric);
    expect(row.ratio, row.path).toMatch(/Node \d+(\.\d+)?× \/ Bun \d+(\.\d+)?×/);
    expect(['yes', 'no', 'Node yes / Bun no', 'Node no / Bun yes']).toContain(row.met);
  }
  // RSS of the apps the paths started (core only on Node, behind both BFFs): before → after → settled.
  const rssCell = /^\d+ → \d+ → \d+ MiB$/;
  const rss = (prefix: string) => result.rows.find((r) => r.path.startsWith(prefix))!;
  for (const prefix of ['RSS, CDN edge', 'RSS, BFF edge']) for (const cell of [rss(prefix).node, rss(prefix).bun]) expect(cell, prefix).toMatch(rssCell);
  expect(rss('RSS, core').node).toMatch(rssCell);
  expect(rss('RSS, core').bun).toStartWith('n/a (not started');

  const written = readFileSync(doc, 'utf8');
  expect(written).toContain('npm run bench -- --seconds=1 --rounds=1');
  expect(written).toContain('| path | Node | Bun | anchor | ratio | goal | goal met |');
  expect(written).toMatch(/- nproc: \d+/);
}, 300_000);
