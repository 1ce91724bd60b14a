import { describe, expect, test } from 'bun:test';
import { averagePct, successRatePct } from '../../core/reports/figures.ts';
import { parseReportDate } from '../../core/reports/keys.ts';

describe('report figures', () => {
  test('success rate never exceeds 100 and is null without movements', () => {
    expect(successRatePct(90, 100)).toBe(90);
    expect(successRatePct(120, 100)).toBe(100);
    expect(successRatePct(0, 0)).toBeNull();
    expect(successRatePct(2, 3)).toBe(66.67);
    expect(averagePct(1000, 5)).toBe(100);
  });

  test('report dates are real calendar days', () => {
    expect(parseReportDate('2026-02-28')).toEqual({ date: '2026-02-28', startMs: Date.UTC(2026, 1, 28) });
    for (const bad of ['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', '1969-12-31', '2026-01-01T00:00']) expect(parseReportDate(bad)).toBeUndefined();
  });
});
