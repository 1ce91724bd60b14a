import { describe, expect, test } from 'bun:test';
import { noopMetrics } from '../../common/metrics/noop.ts';
import { createMetrics } from '../../common/metrics/registry.ts';
import { createJobsMetrics, noJobsMetrics } from '../../jobs/metrics/jobs-metrics.ts';

describe('metrics registry', () => {
  test('renders counters and cumulative histograms in Prometheus text', () => {
    const metrics = createMetrics();
    const counter = metrics.counter('x_total', 'things');
    const histogram = metrics.histogram('d_seconds', 'durations', [0.1, 1]);
    counter.inc({ route: '/a"b' });
    counter.inc({ route: '/a"b' }, 2);
    histogram.observe({ route: '/a' }, 0.05);
    histogram.observe({ route: '/a' }, 0.5);
    const text = metrics.render();
    expect(text).toContain('x_total{route="/a\\"b"} 3');
    expect(text).toContain('d_seconds_bucket{route="/a",le="0.1"} 1');
    expect(text).toContain('d_seconds_bucket{route="/a",le="1"} 2');
    expect(text).toContain('d_seconds_bucket{route="/a",le="+Inf"} 2');
    expect(text).toContain('d_seconds_count{route="/a"} 2');
  });

  test('the no-op registry takes every call, keeps nothing and allows a name twice', () => {
    const counter = noopMetrics.counter('x_total', 'things');
    counter.inc({ a: 'b' }, 5);
    noopMetrics.gauge('g', 'gauge').set({}, 1);
    noopMetrics.histogram('h_seconds', 'durations').observe({}, 0.2);
    expect(() => noopMetrics.counter('x_total', 'things again')).not.toThrow();
    expect(noopMetrics.render()).toBe('');
  });

  test("jobs' figures on the no-op registry are instruments that discard, not absent", () => {
    noJobsMetrics.invalidations.inc({ outcome: 'ok' });
    noJobsMetrics.cdcApplyLag.observe({ table: 't' }, 1);
    expect(noJobsMetrics.registry.render()).toBe('');
    // The same names on a real registry render, so the no-op registry hides nothing by accident.
    const real = createJobsMetrics();
    real.invalidations.inc({ outcome: 'ok' });
    expect(real.registry.render()).toContain('jobs_invalidation_requests_total{outcome="ok"} 1');
  });
});
