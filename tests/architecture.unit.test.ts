import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImportGraph, describeGraph, findCycles, reachableFrom, REPO_ROOT, unitEdges, unitOf } from '../tools/architecture/import-graph.ts';

/**
 * The layers of docs/architecture.md, checked on the real import graph of every TS file in the
 * repository (TypeScript's pre-processor reads the imports; `import type` counts: a type-only
 * circle still ties two files together).
 */
const graph = buildImportGraph();
console.log(describeGraph(graph));

/**
 * File circles allowed for a while, each with an owner and a reason (none now: keep it that way).
 * An entry that no longer matches a real cycle is printed as stale rather than failed.
 */
const KNOWN_FILE_CYCLES: Array<{ files: string[]; owner: string; reason: string }> = [];

/** Folder-level circles allowed for a while (same rule; none now). */
const KNOWN_UNIT_CYCLES: Array<{ units: string[]; owner: string; reason: string }> = [];

/** What each runtime layer (and the tooling kit) may import, by folder; tooling folders are free but acyclic. */
const ALLOWED_UNITS: Record<string, string[]> = {
  common: [],
  db: ['common', 'tools/kit'],
  core: ['common', 'db'],
  jobs: ['common', 'db', 'tools/kit'],
  edge: ['common'],
  // Demo data is tooling the stack and tests use; it takes settings from the kit, never from stack/.
  demo: ['common', 'db', 'tools/kit'],
  'tools/kit': [],
};

/** Files a deployed service starts from. Nothing they reach may live in a tooling or test folder. */
const RUNTIME_ENTRY = /^(core\/serve-[a-z]+\.ts|jobs\/serve-[a-z]+\.ts|jobs\/cli\.ts|edge\/runtime\/[a-z-]+\.ts)$/;
const TOOLING = /^(stack|tools|demo|bench|tests|frontend)\//;
/** Runtime → tooling imports allowed by name (development-only paths), with the reason. */
const KNOWN_RUNTIME_TO_TOOLING: Array<{ from: string; to: string; reason: string }> = [
  { from: 'jobs/cli.ts', to: 'tools/kit/env.ts', reason: "`--stack-env` (development only, a dynamic import) reads the local stack's settings; owner: jobs" },
];

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

describe('import graph', () => {
  test('every relative import names a file that exists', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.unresolved).toEqual([]);
  });

  test('no file circles beyond the known ones', () => {
    const cycles = findCycles(graph.edges);
    const unknown = cycles.filter((cycle) => !KNOWN_FILE_CYCLES.some((known) => sameSet(known.files, cycle)));
    expect(unknown).toEqual([]);
    const closed = KNOWN_FILE_CYCLES.filter((known) => !cycles.some((cycle) => sameSet(known.files, cycle)));
    for (const known of closed) console.warn(`stale KNOWN_FILE_CYCLES entry (circle closed, remove it): ${known.files.join(' ↔ ')}`);
  });

  test('no folder circles beyond the known ones', () => {
    const units = unitEdges(graph);
    const unitGraph = new Map([...units].map(([from, row]) => [from, new Set(row.keys())]));
    const cycles = findCycles(unitGraph);
    const unknown = cycles.filter((cycle) => !KNOWN_UNIT_CYCLES.some((known) => sameSet(known.units, cycle)));
    expect(unknown).toEqual([]);
    const closed = KNOWN_UNIT_CYCLES.filter((known) => !cycles.some((cycle) => sameSet(known.units, cycle)));
    for (const known of closed) console.warn(`stale KNOWN_UNIT_CYCLES entry (circle closed, remove it): ${known.units.join(' ↔ ')}`);
  });

  test('each runtime layer imports only the layers below it; the tooling kit imports nothing back', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph.edges) {
      const allowed = ALLOWED_UNITS[unitOf(file)];
      if (!allowed) continue;
      for (const target of targets) {
        const unit = unitOf(target);
        if (unit !== unitOf(file) && !allowed.includes(unit)) violations.push(`${file} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('core imports nothing from jobs, and no Kafka client', () => {
    const intoJobs = [...graph.edges].flatMap(([file, targets]) => (file.startsWith('core/') ? [...targets].filter((t) => t.startsWith('jobs/')).map((t) => `${file} → ${t}`) : []));
    expect(intoJobs).toEqual([]);
    const runtimeOfCore = reachableFrom(graph.edges, graph.files.filter((f) => /^core\/serve-/.test(f)));
    const kafka = [...runtimeOfCore].filter((file) => graph.packages.get(file)?.has('kafkajs'));
    expect(kafka).toEqual([]);
  });

  test('what a service starts from reaches no tooling, test or frontend file', () => {
    const entries = graph.files.filter((f) => RUNTIME_ENTRY.test(f));
    expect(entries).toContain('core/serve-node.ts');
    expect(entries).toContain('edge/runtime/workerd.ts');
    const edges = new Map([...graph.edges].map(([file, targets]) => [file, new Set([...targets].filter((t) => !KNOWN_RUNTIME_TO_TOOLING.some((k) => k.from === file && k.to === t)))]));
    const reached = [...reachableFrom(edges, entries)].filter((file) => TOOLING.test(file));
    expect(reached).toEqual([]);
  });

  test('the browser app (frontend/src) takes only types from the services: no server code in its bundle', () => {
    const valueImports = graph.files
      .filter((file) => file.startsWith('frontend/src/') && !/\.test\.tsx?$/.test(file))
      .flatMap((file) =>
        readFileSync(join(REPO_ROOT, file), 'utf8')
          .split('\n')
          .filter((line) => /from\s+['"](\.\.\/)+(core|jobs|edge|db|common)\//.test(line) && !/^\s*(import|export)\s+type\b/.test(line))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(valueImports).toEqual([]);
  });

  test('the rules bite: a made-up cycle and a made-up core → jobs import are found', () => {
    const edges = new Map([
      ['core/a.ts', new Set(['jobs/b.ts'])],
      ['jobs/b.ts', new Set(['core/a.ts'])],
      ['common/c.ts', new Set<string>()],
    ]);
    expect(findCycles(edges)).toEqual([['core/a.ts', 'jobs/b.ts']]);
    expect(unitOf('tools/kit/env.ts')).toBe('tools/kit');
    expect(unitOf('tools/architecture/import-graph.ts')).toBe('tools');
  });
});
