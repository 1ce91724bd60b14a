import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';

/**
 * Portability guard: code under edge/ and common/ runs on workerd and Deno too, so it may use Web
 * APIs only. Runtime-specific code lives in edge/runtime/ alone.
 */
const PORTABLE_DIRS = ['edge', 'common'];
const RUNTIME_DIR = join(ROOT, 'edge', 'runtime');

const NODE_BUILTINS = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2', 'https', 'net', 'os', 'path', 'process', 'readline', 'stream', 'tls', 'url', 'util', 'worker_threads', 'zlib'];
const FORBIDDEN_MODULE = new RegExp(`^(node:.*|ioredis|postgres|bun|bun:.*|${NODE_BUILTINS.map((m) => m.replace('/', '\\/')).join('|')})$`);
const MODULE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
const RUNTIME_GLOBAL = /\b(Bun|Deno)\s*\.|\bprocess\s*\.\s*(env|argv|exit)|\bBuffer\s*\./g;

function listSources(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (path === RUNTIME_DIR || name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return listSources(path);
    return /\.(ts|tsx|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Comments may mention runtimes; only code counts. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function findPortabilityViolations(path: string, source: string): string[] {
  const code = stripComments(source);
  const problems: string[] = [];
  for (const match of code.matchAll(MODULE_SPECIFIER)) {
    if (FORBIDDEN_MODULE.test(match[1]!)) problems.push(`${path}: imports '${match[1]}'`);
  }
  for (const match of code.matchAll(RUNTIME_GLOBAL)) problems.push(`${path}: uses ${match[0]}`);
  return problems;
}

describe('portable code uses Web APIs only', () => {
  test('the guard catches what it should', () => {
    expect(findPortabilityViolations('x.ts', "import { readFile } from 'node:fs';")).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', "import Redis from 'ioredis';")).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', "import postgres from 'postgres';")).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', "const m = await import('node:crypto');")).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', 'const f = Bun.file("x");')).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', 'Deno.serve(() => new Response());')).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', 'const k = process.env.KEY;')).toHaveLength(1);
    expect(findPortabilityViolations('x.ts', "// runs on Bun.serve and node:http too\nimport { Hono } from 'hono';")).toHaveLength(0);
  });

  test('edge/ (outside edge/runtime/) and common/ are clean', () => {
    const files = PORTABLE_DIRS.flatMap((dir) => listSources(join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(0);
    const problems = files.flatMap((file) => findPortabilityViolations(relative(ROOT, file), readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
  });
});
