/** Axis arithmetic for the SVG charts; pure so it is unit-tested apart from React. */

/** The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at or above `value`; 1 for nothing to show. */
export function niceCeiling(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * magnitude;
    // Float noise (0.1 * 3) must not push a value just past its own nice bound.
    if (candidate >= value - magnitude * 1e-9) return candidate;
  }
  return 10 * magnitude;
}

/**
 * Evenly spaced ticks from 0 to max inclusive. For a nice max the step is nice too: 1 and 5 × 10^k
 * split in five, 2 × 10^k in four, 2.5 × 10^k in five (steps of 0.2, 1, 0.5, 0.5 × 10^k).
 */
export function ticks(max: number): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0];
  const leading = max / 10 ** Math.floor(Math.log10(max));
  const count = Math.abs(leading - 2) < 1e-9 ? 4 : 5;
  return Array.from({ length: count + 1 }, (_, i) => (max * i) / count);
}

/** The index and value of the largest finite entry, or undefined when there is none above 0. */
export function peak(values: readonly (number | null)[]): { index: number; value: number } | undefined {
  let best: { index: number; value: number } | undefined;
  values.forEach((value, index) => {
    if (value !== null && Number.isFinite(value) && value > 0 && (!best || value > best.value)) best = { index, value };
  });
  return best;
}

/**
 * An SVG path through the points, broken where a value is missing: an hour without measurements
 * must show as a gap, not as a line drawn to zero.
 */
export function linePath(values: readonly (number | null)[], x: (index: number) => number, y: (value: number) => number): string {
  let path = '';
  let penDown = false;
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      penDown = false;
      return;
    }
    path += `${penDown ? 'L' : 'M'}${x(index).toFixed(1)},${y(value).toFixed(1)}`;
    penDown = true;
  });
  return path;
}
