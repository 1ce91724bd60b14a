import { describe, expect, test } from 'bun:test';
import { linePath, niceCeiling, peak, ticks } from './scale.ts';

describe('chart scales', () => {
  test('niceCeiling rounds up to 1, 2, 2.5 or 5 × 10^k', () => {
    const cases: Array<[number, number]> = [
      [0, 1],
      [-5, 1],
      [Number.NaN, 1],
      [0.3, 0.5],
      [1, 1],
      [1.01, 2],
      [4, 5],
      [81, 100],
      [100, 100],
      [101, 200],
      [201, 250],
      [251, 500],
      [4_182, 5_000],
      [0.1 * 3, 0.5],
    ];
    for (const [value, expected] of cases) expect([value, niceCeiling(value)]).toEqual([value, expected]);
  });

  test('ticks split a nice maximum into whole steps', () => {
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ticks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(ticks(250)).toEqual([0, 50, 100, 150, 200, 250]);
    expect(ticks(0)).toEqual([0]);
  });

  test('peak finds the largest positive value and ignores gaps', () => {
    expect(peak([0, null, 3, 7, 7, 2])).toEqual({ index: 3, value: 7 });
    expect(peak([0, 0, null])).toBeUndefined();
    expect(peak([])).toBeUndefined();
  });

  test('a line breaks where an hour has no measurement', () => {
    const path = linePath([10, 20, null, 30, Number.NaN, 40], (i) => i * 10, (v) => 100 - v);
    expect(path).toBe('M0.0,90.0L10.0,80.0M30.0,70.0M50.0,60.0');
    expect(linePath([null, null], (i) => i, (v) => v)).toBe('');
  });
});
