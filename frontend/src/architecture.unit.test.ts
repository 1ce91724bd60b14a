import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The app's import graph, type-only imports included (a type-only circle still ties two files
 * together for the next reader): no file-level circle, and the folders form layers — `app/`
 * (shell, routes, providers) on top, the feature folders `admin/` → `reports/` → `session/` (and `crm/`, the
 * operator's pages, beside `admin/`: it uses `session/` and the shared folders, never the reports), then the
 * shared `ui/`, `http/`, `i18n/` — so a newcomer finds a behaviour in one hop and a feature can
 * be read without the shell.
 */

const SRC = import.meta.dir;
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\s\S]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.unit\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets: string[] = [];
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      if (target.startsWith(SRC) && /\.tsx?$/.test(target)) targets.push(relative(SRC, target));
    }
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-import): the circles. */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '(root)');

/** Which folders each folder may import (besides itself). */
const MAY_IMPORT: Record<string, string[]> = {
  '(root)': ['app'],
  app: ['admin', 'crm', 'reports', 'session', 'ui', 'http', 'i18n'],
  crm: ['session', 'ui', 'http', 'i18n'],
  admin: ['reports', 'session', 'ui', 'http', 'i18n'],
  reports: ['session', 'ui', 'http', 'i18n'],
  ui: ['session', 'http', 'i18n'],
  session: ['http', 'i18n'],
  http: [],
  i18n: [],
};

describe('frontend import graph', () => {
  const graph = importGraph();

  test('every relative import resolves to a file of the app', () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((target) => !graph.has(target)).map((target) => `${file} → ${target}`));
    expect(missing).toEqual([]);
    expect(graph.size).toBeGreaterThan(30);
  });

  test('no file imports itself back through others (type-only imports included)', () => {
    expect(circles(graph)).toEqual([]);
  });

  test('folders import only the layers below them', () => {
    const crossings = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => folderOf(target) !== folderOf(file) && !(MAY_IMPORT[folderOf(file)] ?? []).includes(folderOf(target)))
        .map((target) => `${file} → ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  test('the checker itself sees a circle when there is one', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
