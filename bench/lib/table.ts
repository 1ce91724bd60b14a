/**
 * The results table: one row per measured path, cells as "median (min–max)" over the rounds, the
 * anchor beside them, the ratio to it and whether the goal is met. A row that could not be
 * measured says "n/a (why)" instead of a figure.
 */
import { median, range } from './stats.ts';

export type Unit = 'req/s' | 'ms' | 'MiB' | 'events/s' | 'rows/s' | '×';

/** A figure over rounds, a text (already formatted), or the reason there is none. */
export type Cell = { values: number[]; unit: Unit } | { text: string } | { na: string };

export interface TableRow {
  path: string;
  node?: Cell;
  bun?: Cell;
  /** What the path is compared with and its figure ("nginx 1.22", "bare ClickHouse query"). */
  anchor?: { label: string; cell: Cell };
  ratio?: string;
  goal: string;
  /** "yes", "no", "Node yes / Bun no", or "n/a". */
  met: string;
}

export const figure = (values: number[], unit: Unit): Cell => ({ values, unit });
export const na = (why: string): Cell => ({ na: why });

export function isFigure(cell: Cell | undefined): cell is { values: number[]; unit: Unit } {
  return !!cell && 'values' in cell && cell.values.some(Number.isFinite);
}

export function medianOf(cell: Cell | undefined): number {
  return isFigure(cell) ? median(cell.values) : Number.NaN;
}

/** Grouped thousands for big figures, two decimals under 10 (latencies), one under 100. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatCell(cell: Cell | undefined): string {
  if (!cell) return '';
  if ('na' in cell) return `n/a (${cell.na})`;
  if ('text' in cell) return cell.text;
  const finite = cell.values.filter(Number.isFinite);
  if (finite.length === 0) return 'n/a (no figure)';
  const unit = cell.unit === 'req/s' || cell.unit === '×' ? '' : ` ${cell.unit}`;
  const mid = formatNumber(median(finite));
  const { min, max } = range(finite);
  if (finite.length === 1 || min === max) return `${mid}${unit}`;
  return `${mid}${unit} (${formatNumber(min)}–${formatNumber(max)})`;
}

/** a / b as "0.42×"; empty when either side has no figure. */
export function formatRatio(a: Cell | undefined, b: Cell | undefined): string {
  const ratio = medianOf(a) / medianOf(b);
  if (!Number.isFinite(ratio)) return '';
  // Two significant digits below 0.1, so a latency far under its anchor's does not print as 0.00×.
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`;
}

/** Per-runtime verdicts folded into one cell: "yes", "no", "Node yes / Bun no"; "n/a" for no figures. */
export function formatMet(verdicts: Array<{ label: string; met: boolean | undefined }>): string {
  const known = verdicts.filter((v) => v.met !== undefined);
  if (known.length === 0) return 'n/a';
  if (known.length === verdicts.length && known.every((v) => v.met === known[0]!.met)) return known[0]!.met ? 'yes' : 'no';
  return verdicts.map((v) => `${v.label} ${v.met === undefined ? 'n/a' : v.met ? 'yes' : 'no'}`).join(' / ');
}

/** A verdict from a cell: undefined when the cell holds no figure. */
export function meets(cell: Cell | undefined, test: (median: number) => boolean): boolean | undefined {
  return isFigure(cell) ? test(medianOf(cell)) : undefined;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdownTable(rows: TableRow[]): string {
  const header = '| path | Node | Bun | anchor | ratio | goal | goal met |';
  const rule = '|---|---:|---:|---|---:|---|---|';
  const lines = rows.map((row) => {
    const anchor = row.anchor ? `${row.anchor.label}: ${formatCell(row.anchor.cell)}` : '—';
    return `| ${[row.path, formatCell(row.node) || '—', formatCell(row.bun) || '—', anchor, row.ratio || '—', row.goal, row.met].map(escapeCell).join(' | ')} |`;
  });
  return [header, rule, ...lines].join('\n');
}
