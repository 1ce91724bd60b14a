import { describe, expect, test } from 'bun:test';
import type { ChipDimensions } from '../../jobs/etl/dimensions.ts';
import { hourCuts, ownerAt, type Assignment } from '../../jobs/etl/owner-spans.ts';
import { toMartRows } from '../../jobs/etl/mart-rows.ts';
import type { HourlyAggregate } from '../../jobs/etl/hourly-aggregates.ts';

const H = 3_600_000;
const T0 = 1_795_593_600_000; // an hour boundary

describe('owner at a time', () => {
  const history: Assignment[] = [
    { customerId: 'a', validFromMs: T0 },
    { customerId: 'b', validFromMs: T0 + 3.5 * H },
    { customerId: 'c', validFromMs: T0 + 6 * H },
  ];

  test('the assignment with the greatest valid_from at or before the instant; the first owner before any', () => {
    expect(ownerAt(history, T0 - H).customerId).toBe('a');
    expect(ownerAt(history, T0).customerId).toBe('a');
    expect(ownerAt(history, T0 + 3.5 * H - 1).customerId).toBe('a');
    expect(ownerAt(history, T0 + 3.5 * H).customerId).toBe('b');
    expect(ownerAt(history, T0 + 6 * H).customerId).toBe('c');
    expect(ownerAt(history, T0 + 100 * H).customerId).toBe('c');
  });

  test('an hour is cut where the owner changes inside it; a change on the hour boundary cuts nothing', () => {
    expect(hourCuts(history, T0 + 3 * H)).toEqual([T0 + 3.5 * H]);
    expect(hourCuts(history, T0 + 2 * H)).toEqual([]);
    expect(hourCuts(history, T0 + 6 * H)).toEqual([]);
    expect(hourCuts(history, T0 + 5 * H)).toEqual([]);
  });

  test('two changes in one hour cut it twice when each owner holds one part; A → B → A is not cut', () => {
    const twice: Assignment[] = [
      { customerId: 'a', validFromMs: T0 },
      { customerId: 'b', validFromMs: T0 + H + 10 * 60_000 },
      { customerId: 'c', validFromMs: T0 + H + 40 * 60_000 },
    ];
    expect(hourCuts(twice, T0 + H)).toEqual([T0 + H + 10 * 60_000, T0 + H + 40 * 60_000]);
    const back: Assignment[] = [...twice.slice(0, 2), { customerId: 'a', validFromMs: T0 + H + 40 * 60_000 }];
    expect(hourCuts(back, T0 + H)).toEqual([]);
    // A re-recorded assignment to the same owner is no change.
    const same: Assignment[] = [{ customerId: 'a', validFromMs: T0 }, { customerId: 'a', validFromMs: T0 + H + 5 * 60_000 }];
    expect(hourCuts(same, T0 + H)).toEqual([]);
  });
});

describe('mart rows of a reassigned chip', () => {
  const dims: ChipDimensions = {
    chipId: 'CHIP-R1',
    prosthesisId: 'p1',
    modelName: 'Hand',
    owners: [
      { validFromMs: T0, userId: 'old', region: 'eu' },
      { validFromMs: T0 + 3.5 * H, userId: 'new', region: 'ru' },
    ],
  };
  const part = (hourOffset: number, fromMs: number, eventCount: number): HourlyAggregate => ({
    chipId: 'CHIP-R1', hourSeconds: (T0 + hourOffset * H) / 1000, fromMs, eventCount, movements: 1, successfulMovements: 1, responseTimeSumMs: 100,
    responseTimeCount: 1, responseTimeMaxMs: 100, responseTimeP95Ms: 100, batteryMinPct: 50, batteryMaxPct: 50, batterySumPct: 50, actuatorTempMaxC: 30,
    actuatorTempSumC: 30, errorsTotal: 0, errorCodes: [], activeMinutes: 1, chargingMinutes: 0,
  });

  test('each part of a cut hour goes to the owner at its start, with the owner\'s region', () => {
    const { rows, deferred } = toMartRows([part(2, T0 + 2 * H, 4), part(3, T0 + 3 * H, 2), part(3, T0 + 3.5 * H, 5), part(4, T0 + 4 * H, 1)], () => dims, 7);
    expect(deferred).toEqual([]);
    expect(rows.map((r) => [r.user_id, r.region, (r.hour * 1000 - T0) / H, r.event_count])).toEqual([
      ['old', 'eu', 2, 4],
      ['old', 'eu', 3, 2],
      ['new', 'ru', 3, 5],
      ['new', 'ru', 4, 1],
    ]);
  });

  test('both parts of a cut hour of an unknown chip defer the hour once', () => {
    const { rows, deferred, deferredRawRows } = toMartRows([part(3, T0 + 3 * H, 2), part(3, T0 + 3.5 * H, 5)], () => null, 7);
    expect(rows).toEqual([]);
    expect(deferred).toEqual([{ chipId: 'CHIP-R1', hourSeconds: (T0 + 3 * H) / 1000 }]);
    expect(deferredRawRows).toBe(7);
  });
});
