import { describe, expect, test } from 'bun:test';
import { createMetrics } from '../../common/metrics/registry.ts';

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
});
