import { describe, expect, test } from 'bun:test';
import { buildImportGraph } from '../../tools/architecture/import-graph.ts';

/**
 * The app's folders form layers — `app/` (shell, routes, providers) on top, the feature folders
 * `admin/` → `reports/` → `session/` (and `crm/`, the operator's pages, beside `admin/`: it uses
 * `session/` and the shared folders, never the reports), then the shared `ui/`, `http/`, `i18n/` —
 * so a newcomer finds a behaviour in one hop and a feature can be read without the shell. The
 * graph (type-only imports included) is the repository's one (tools/architecture/import-graph.ts);
 * tests/architecture.unit.test.ts checks it has no circle anywhere, this app included.
 */

const PREFIX = 'frontend/src/';

/** The app's own source files (tests aside) and the app sources each imports (not its CSS), relative to frontend/src. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, targets] of buildImportGraph().edges) {
    if (!file.startsWith(PREFIX) || /\.test\.tsx?$/.test(file)) continue;
    graph.set(file.slice(PREFIX.length), [...targets].filter((t) => t.startsWith(PREFIX) && /\.tsx?$/.test(t)).map((t) => t.slice(PREFIX.length)));
  }
  return graph;
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

  test('folders import only the layers below them', () => {
    const crossings = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => folderOf(target) !== folderOf(file) && !(MAY_IMPORT[folderOf(file)] ?? []).includes(folderOf(target)))
        .map((target) => `${file} → ${target}`),
    );
    expect(crossings).toEqual([]);
  });
});
