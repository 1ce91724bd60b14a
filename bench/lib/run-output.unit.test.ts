import { describe, expect, test } from 'bun:test';
import { preservedProfiles, renderDocument } from './doc.ts';
import { lastJsonLine, parseCdcOutput, parseEtlOutput } from './sub-bench.ts';

describe('sub-bench output', () => {
  test('the last stdout line that is a JSON object wins; log lines that only look like JSON are skipped', () => {
    const stdout = 'command: x\n{"bench":"ingest","events_per_s":1}\nround 1: HTTP …\n{"bench":"ingest","events_per_s":2}\n{not json}\n';
    expect(lastJsonLine(stdout)).toEqual({ bench: 'ingest', events_per_s: 2 });
    expect(lastJsonLine('no json here\n[1,2]\n')).toBeUndefined();
  });

  test('ETL figures from its JSON line, else from the text etl.bench.ts prints', () => {
    const text =
      '[full load] 1,000,000 raw rows → 83,333 mart rows (83,333 chip-hours) in 3.9 s: 258,123 raw rows/s, 21,000 mart rows/s\n' +
      '[full load] RSS 60 MiB before the run, peak 97 MiB sampled, process maxRSS 99 MiB; by mart progress: 25% rss 80 MiB\n' +
      '[incremental, 20,000 late events] 20,000 raw rows → 10 mart rows in 0.5 s: 40,000 raw rows/s, 20 mart rows/s\n';
    expect(parseEtlOutput(text, undefined)).toEqual({ rowsPerS: 258123, peakRssMiB: 97, anchorRowsPerS: Number.NaN });
    expect(parseEtlOutput(text, { raw_rows_per_s: 1_200_000, peak_rss_mib: 90, anchor_rows_per_s: 2_000_000 })).toEqual({ rowsPerS: 1_200_000, peakRssMiB: 90, anchorRowsPerS: 2_000_000 });
  });

  test('CDC lag percentiles from its JSON line, else from its text', () => {
    const text = 'cdc lag over 6000/6000 changes at 998.7 changes/s for 6.0 s: p50 120 ms, p90 240 ms, p99 410 ms, max 600 ms (CRM commit → stored)\n';
    expect(parseCdcOutput(text, undefined)).toEqual({ ratePerS: 998.7, p50: 120, p90: 240, p99: 410 });
    expect(parseCdcOutput(text, { rate_per_s: 1000, p50_ms: 1, p90_ms: 2, p99_ms: 3 })).toEqual({ ratePerS: 1000, p50: 1, p90: 2, p99: 3 });
    expect(parseCdcOutput('nothing\n', undefined).p99).toBeNaN();
    const perLine = 'cdc lag over 10000/10000 changes at 992.5 changes/s for 10.1 s (CRM commit → stored):\n  p50   704 ms\n  p90   1340 ms\n  p99   1872 ms\n  legs: commit → Kafka p50 12 / p99 40 ms\n';
    expect(parseCdcOutput(perLine, undefined)).toEqual({ ratePerS: 992.5, p50: 704, p90: 1340, p99: 1872 });
  });
});

describe('docs/performance.md', () => {
  const input = { table: '| path |\n|---|', command: 'npm run bench', facts: { nproc: '2' }, opts: { rounds: 3, seconds: 10 }, details: ['- x'] };

  test('a Profiles section written into the generated doc is carried over', () => {
    const existing = '# Performance\n\n## Rounds\n\n- old\n\n## Profiles\n\nCDN (Node): 17 % log\n\n## Notes\n\nhand\n';
    const profiles = preservedProfiles(existing);
    expect(profiles).toBe('## Profiles\n\nCDN (Node): 17 % log\n');
    const doc = renderDocument({ ...input, notes: '## Notes\n\nkept\n', profiles });
    expect(doc).toContain('npm run bench');
    expect(doc).toContain('CDN (Node): 17 % log');
    expect(doc.match(/^## Profiles$/gm)).toHaveLength(1);
    expect(preservedProfiles('# no profiles\n')).toBeUndefined();
    // A regenerated doc keeps it again (the section ends the doc).
    expect(preservedProfiles(doc)).toBe(profiles);
  });

  test('a first run without any Profiles section leaves a placeholder to paste into', () => {
    const doc = renderDocument({ ...input, notes: '## Notes\n' });
    expect(doc).toMatch(/^## Profiles$/m);
    expect(preservedProfiles(doc)).toContain('Top lines of CPU profiles');
  });

  test('the notes file wins when it has its own Profiles section (no second copy)', () => {
    const doc = renderDocument({ ...input, notes: '## Profiles\n\nfrom the notes file\n', profiles: '## Profiles\n\nold\n' });
    expect(doc.match(/^## Profiles$/gm)).toHaveLength(1);
    expect(doc).toContain('from the notes file');
  });
});
