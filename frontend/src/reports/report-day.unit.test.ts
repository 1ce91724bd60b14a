import { describe, expect, test } from 'bun:test';
import { isReportDay, neighbours } from './report-day.ts';

describe('report days', () => {
  test('isReportDay accepts real calendar days only', () => {
    expect(isReportDay('2024-02-29')).toBe(true);
    expect(isReportDay('2023-02-29')).toBe(false);
    expect(isReportDay('2026-11-24T00:00')).toBe(false);
  });

  test('neighbours are the older and newer day with data in a newest-first list', () => {
    const days = [{ date: '2026-11-24' }, { date: '2026-11-22' }, { date: '2026-11-20' }];
    expect(neighbours(days, '2026-11-22')).toEqual({ previous: '2026-11-20', next: '2026-11-24' });
    expect(neighbours(days, '2026-11-24')).toEqual({ previous: '2026-11-22', next: undefined });
    expect(neighbours(days, '2026-11-23')).toEqual({});
    expect(neighbours(undefined, '2026-11-22')).toEqual({});
  });
});
