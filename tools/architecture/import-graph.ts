/**
 * The repository's import graph, read with TypeScript's own pre-processor (so comments, strings and
 * template literals never count as imports; `import type`, re-exports and dynamic `import()` do).
 *
 *   node tools/architecture/import-graph.ts        prints files, edges, folder matrix and cycles
 *
 * tests/architecture.unit.test.ts holds the rules; this file only measures.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SKIPPED = new Set(['node_modules', '.git', '.stack', 'artifacts', 'dist', '__pycache__', '.venv']);
const SOURCE = /\.(ts|tsx|mts)$/;

export interface ImportGraph {
  /** Repository-relative paths with forward slashes. */
  files: string[];
  /** file → repository files it imports (resolved). */
  edges: Map<string, Set<string>>;
  /** file → packages it imports (`kafkajs`, `@hono/zod-openapi`, `node:*` as `node:`). */
  packages: Map<string, Set<string>>;
  /** Relative imports that resolve to no file (a typo or a moved file). */
  unresolved: Array<{ from: string; specifier: string }>;
}

function listSources(dir: string, root: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIPPED.has(name)) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...listSources(full, root));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) found.push(relative(root, full).split(sep).join('/'));
  }
  return found;
}

function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = resolve(root, dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate).split(sep).join('/');
  }
  return undefined;
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return 'node:';
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export function buildImportGraph(root: string = REPO_ROOT): ImportGraph {
  const files = listSources(root, root).sort();
  const edges = new Map<string, Set<string>>();
  const packages = new Map<string, Set<string>>();
  const unresolved: ImportGraph['unresolved'] = [];
  for (const file of files) {
    const targets = new Set<string>();
    const used = new Set<string>();
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(root, file, specifier);
        if (target) targets.add(target);
        else unresolved.push({ from: file, specifier });
      } else used.add(packageName(specifier));
    }
    edges.set(file, targets);
    packages.set(file, used);
  }
  return { files, edges, packages, unresolved };
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function findCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    lowlink.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        lowlink.set(node, Math.min(lowlink.get(node)!, lowlink.get(next)!));
      } else if (onStack.has(next)) lowlink.set(node, Math.min(lowlink.get(node)!, indices.get(next)!));
    }
    if (lowlink.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || edges.get(node)?.has(node)) cycles.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!indices.has(node)) visit(node);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Files reachable from the given ones by following imports (the given ones included). */
export function reachableFrom(edges: Map<string, Set<string>>, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of edges.get(file) ?? []) queue.push(next);
  }
  return seen;
}

/**
 * The unit a file belongs to for the folder-level graph: its top-level folder, except the tooling
 * kit (tools/kit), which is its own unit so "tools" and "the kit every tool shares" stay apart.
 */
export function unitOf(file: string): string {
  if (file.startsWith('tools/kit/')) return 'tools/kit';
  const slash = file.indexOf('/');
  return slash === -1 ? '.' : file.slice(0, slash);
}

/** unit → unit → number of file-level imports between them (imports inside a unit left out). */
export function unitEdges(graph: ImportGraph): Map<string, Map<string, number>> {
  const units = new Map<string, Map<string, number>>();
  for (const [file, targets] of graph.edges) {
    const from = unitOf(file);
    const row = units.get(from) ?? new Map<string, number>();
    units.set(from, row);
    for (const target of targets) {
      const to = unitOf(target);
      if (to !== from) row.set(to, (row.get(to) ?? 0) + 1);
    }
  }
  return units;
}

export function describeGraph(graph: ImportGraph): string {
  const edgeCount = [...graph.edges.values()].reduce((sum, targets) => sum + targets.size, 0);
  const units = unitEdges(graph);
  const lines = [`${graph.files.length} files, ${edgeCount} imports between them, ${findCycles(graph.edges).length} file cycle(s)`];
  for (const [from, row] of [...units].sort(([a], [b]) => a.localeCompare(b))) {
    const targets = [...row].sort(([a], [b]) => a.localeCompare(b)).map(([to, n]) => `${to} ${n}`);
    lines.push(`  ${from.padEnd(10)} → ${targets.join(', ') || '(nothing)'}`);
  }
  for (const cycle of findCycles(graph.edges)) lines.push(`  cycle: ${cycle.join(' ↔ ')}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(describeGraph(buildImportGraph()));
