import { describe, expect, test } from 'bun:test';
import { reuseRecent } from '../../common/http/reuse-recent.ts';

describe('reuseRecent', () => {
  function counter() {
    let rounds = 0;
    return { compute: async () => ++rounds, rounds: () => rounds };
  }

  test('calls within the window share one round; the first call at or past its end starts the next', async () => {
    let clock = 1_000;
    const c = counter();
    const next = reuseRecent(c.compute, 1_000, () => clock);
    expect(await Promise.all([next(), next(), next()])).toEqual([1, 1, 1]);
    clock += 999;
    expect(await next()).toBe(1);
    clock += 1;
    expect(await next()).toBe(2);
    expect(c.rounds()).toBe(2);
  });

  test('a clock that went backwards starts a new round', async () => {
    let clock = 5_000;
    const c = counter();
    const next = reuseRecent(c.compute, 1_000, () => clock);
    await next();
    clock = 4_000;
    expect(await next()).toBe(2);
  });

  test('a window of 0 computes on every call', async () => {
    const c = counter();
    const next = reuseRecent(c.compute, 0, () => 7);
    expect([await next(), await next(), await next()]).toEqual([1, 2, 3]);
  });
});
