/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and histograms with
 * labels. Behind this interface so handlers never depend on a metrics library.
 */
export type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}
export interface Gauge {
  set(labels: Labels, value: number): void;
}

export interface Metrics {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: number[]): Histogram;
  gauge(name: string, help: string): Gauge;
  /** The exposition text for GET /metrics. */
  render(): string;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (extra) entries.push(extra);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

const seriesKey = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

export function createMetrics(): Metrics {
  const blocks: Array<() => string> = [];
  const names = new Set<string>();
  const claim = (name: string) => {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    if (names.has(name)) throw new Error(`metric ${name} registered twice`);
    names.add(name);
  };

  return {
    counter(name, help) {
      claim(name);
      const series = new Map<string, { labels: Labels; value: number }>();
      blocks.push(() => [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, ...[...series.values()].map((s) => `${name}${labelText(s.labels)} ${s.value}`)].join('\n'));
      return {
        inc(labels = {}, value = 1) {
          const key = seriesKey(labels);
          const entry = series.get(key) ?? { labels, value: 0 };
          entry.value += value;
          series.set(key, entry);
        },
      };
    },

    gauge(name, help) {
      claim(name);
      const series = new Map<string, { labels: Labels; value: number }>();
      blocks.push(() => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...[...series.values()].map((s) => `${name}${labelText(s.labels)} ${s.value}`)].join('\n'));
      return {
        set(labels, value) {
          series.set(seriesKey(labels), { labels, value });
        },
      };
    },

    histogram(name, help, buckets = DEFAULT_BUCKETS) {
      claim(name);
      const sorted = [...buckets].sort((a, b) => a - b);
      const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
        for (const s of series.values()) {
          sorted.forEach((bound, i) => lines.push(`${name}_bucket${labelText(s.labels, ['le', String(bound)])} ${s.counts[i]}`));
          lines.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
          lines.push(`${name}_sum${labelText(s.labels)} ${s.sum}`);
          lines.push(`${name}_count${labelText(s.labels)} ${s.count}`);
        }
        return lines.join('\n');
      });
      return {
        observe(labels, value) {
          const key = seriesKey(labels);
          let entry = series.get(key);
          if (!entry) {
            entry = { labels, counts: sorted.map(() => 0), sum: 0, count: 0 };
            series.set(key, entry);
          }
          // Prometheus buckets are cumulative: every bucket whose bound is >= value counts it.
          sorted.forEach((bound, i) => {
            if (value <= bound) entry.counts[i]!++;
          });
          entry.sum += value;
          entry.count++;
        },
      };
    },

    render() {
      return `${blocks.map((block) => block()).join('\n')}\n`;
    },
  };
}
