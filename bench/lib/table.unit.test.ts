import { describe, expect, test } from 'bun:test';
import { figure, formatCell, formatMet, formatNumber, formatRatio, meets, na, renderMarkdownTable } from './table.ts';
import { median, range } from './stats.ts';

describe('median and range', () => {
  test('odd and even counts; non-finite values ignored', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
    expect(range([3, Number.NaN, 1, 2])).toEqual({ min: 1, max: 3 });
  });
});

describe('cells', () => {
  test('median with the range over rounds, grouped thousands, latencies with decimals', () => {
    expect(formatNumber(35324.4)).toBe('35,324');
    expect(formatNumber(16.24)).toBe('16.2');
    expect(formatNumber(1.494)).toBe('1.49');
    expect(formatCell(figure([4733, 4512, 4901], 'req/s'))).toBe('4,733 (4,512–4,901)');
    expect(formatCell(figure([1.49, 1.6, 1.41], 'ms'))).toBe('1.49 ms (1.41–1.60)');
    expect(formatCell(figure([276], 'MiB'))).toBe('276 MiB');
    expect(formatCell(figure([12873, 12873, 12873], 'events/s'))).toBe('12,873 events/s');
  });

  test('a cell without a figure says why', () => {
    expect(formatCell(na('bench/ingest.bench.ts is missing'))).toBe('n/a (bench/ingest.bench.ts is missing)');
    expect(formatCell(figure([Number.NaN], 'ms'))).toBe('n/a (no figure)');
    expect(formatCell({ text: '80 → 140 → 120 MiB' })).toBe('80 → 140 → 120 MiB');
  });

  test('ratio of medians, empty when a side has none', () => {
    expect(formatRatio(figure([4733, 4000, 5000], 'req/s'), figure([35324], 'req/s'))).toBe('0.13×');
    expect(formatRatio(figure([1239], 'req/s'), figure([100], 'req/s'))).toBe('12.4×');
    expect(formatRatio(na('down'), figure([1], 'req/s'))).toBe('');
    expect(formatRatio(figure([0.24], 'ms'), figure([77.2], 'ms'))).toBe('0.0031×');
  });

  test('goal verdicts per runtime fold into one cell', () => {
    expect(formatMet([{ label: 'Node', met: true }, { label: 'Bun', met: true }])).toBe('yes');
    expect(formatMet([{ label: 'Node', met: false }, { label: 'Bun', met: false }])).toBe('no');
    expect(formatMet([{ label: 'Node', met: false }, { label: 'Bun', met: true }])).toBe('Node no / Bun yes');
    expect(formatMet([{ label: 'Node', met: undefined }, { label: 'Bun', met: true }])).toBe('Node n/a / Bun yes');
    expect(formatMet([{ label: 'Node', met: undefined }])).toBe('n/a');
    expect(meets(figure([5000, 4000, 4500], 'req/s'), (v) => v >= 4400)).toBe(true);
    expect(meets(na('x'), () => true)).toBeUndefined();
  });
});

describe('renderMarkdownTable', () => {
  test('one line per row, pipes in reasons escaped, missing cells as dashes', () => {
    const table = renderMarkdownTable([
      { path: 'CDN hit, identity, c=32 (req/s)', node: figure([4994], 'req/s'), bun: figure([11312], 'req/s'), anchor: { label: 'nginx', cell: figure([54617], 'req/s') }, ratio: 'Node 0.09× / Bun 0.21× of nginx', goal: 'Bun ≥ 0.9×', met: 'no' },
      { path: 'ETL', node: na('exit 1 | boom'), goal: '≥ 1M', met: 'n/a' },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('| path | Node | Bun | anchor | ratio | goal | goal met |');
    expect(lines[2]).toBe('| CDN hit, identity, c=32 (req/s) | 4,994 | 11,312 | nginx: 54,617 | Node 0.09× / Bun 0.21× of nginx | Bun ≥ 0.9× | no |');
    expect(lines[3]).toBe('| ETL | n/a (exit 1 \\| boom) | — | — | — | ≥ 1M | n/a |');
  });
});
