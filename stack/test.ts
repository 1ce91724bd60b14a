import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { StackEnv } from '../tools/kit/env.ts';
import { ensureDebPackages } from '../tools/kit/apt.ts';
import { ROOT } from '../tools/kit/paths.ts';

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Reads the totals Bun's JUnit reporter writes on its root element. */
export function countJUnit(xml: string): TestCounts {
  const root = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? '';
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(root)?.[1] ?? 0);
  const total = attr('tests');
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  return { passed: Math.max(0, total - failed - skipped), failed, skipped };
}

const SKIPPED_DIRS = new Set(['node_modules', '.stack', '.git', 'artifacts', 'dist']);

/** Every Bun test file in the repository (outside dependencies and state), as paths Bun takes as filters. */
export function findTestFiles(dir: string = ROOT): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTestFiles(full));
    else if (/\.test\.tsx?$/.test(entry.name)) found.push(`./${relative(ROOT, full)}`);
  }
  return found.sort();
}

/**
 * Runs every test with the stack's connection settings in the environment and closes with the
 * line CI reads: `N passed, N failed, N skipped`.
 */
export async function runTests(env: StackEnv, args: string[]): Promise<number> {
  // The browser tests drive Debian's Chromium (never a downloaded browser build).
  await ensureDebPackages('e2e', ['chromium']);
  const artifacts = join(ROOT, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const junit = join(artifacts, 'junit.xml');
  rmSync(junit, { force: true });
  rmSync(join(artifacts, 'summary.txt'), { force: true });
  // The pinned Bun (node_modules/.bin/bun) runs the tests whichever package manager installed it.
  const bun = join(ROOT, 'node_modules', '.bin', 'bun');
  // Integration tests wait on real services on a 2-core box; Bun 1.3 ignores bunfig's test timeout.
  const code = await new Promise<number>((resolve) => {
    const child = spawn(bun, ['test', '--timeout=60000', '--reporter=junit', `--reporter-outfile=${junit}`, ...(args.length > 0 ? args : findTestFiles())], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('close', (exitCode) => resolve(exitCode ?? 1));
  });
  const counts = existsSync(junit) ? countJUnit(readFileSync(junit, 'utf8')) : { passed: 0, failed: 1, skipped: 0 };
  // A crash outside any test (a file that fails to load) shows only in the exit code.
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  const summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  writeFileSync(join(artifacts, 'summary.txt'), `${summary}\n`);
  console.log(`\n${summary}`);
  return counts.failed > 0 || counts.passed === 0 ? 1 : 0;
}
