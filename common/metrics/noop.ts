import type { Counter, Gauge, Histogram, Metrics } from './registry.ts';

const counter: Counter = { inc() {} };
const gauge: Gauge = { set() {} };
const histogram: Histogram = { observe() {} };

/**
 * A registry that keeps nothing, for code run with metrics off (a CLI run, a test): callers take
 * a metrics object that is always there, so no call site needs `metrics?.`.
 */
export const noopMetrics: Metrics = {
  counter: () => counter,
  gauge: () => gauge,
  histogram: () => histogram,
  render: () => '',
};
