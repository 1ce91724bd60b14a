import { describe, expect, test } from 'bun:test';
import { describeDeferrals } from '../../jobs/etl/deferred-hours.ts';
import type { ChipDimensions } from '../../jobs/etl/dimensions.ts';
import type { HourlyAggregate } from '../../jobs/etl/hourly-aggregates.ts';
import { toMartRows } from '../../jobs/etl/mart-rows.ts';

function aggregate(chipId: string, hourSeconds: number, eventCount: number): HourlyAggregate {
  return {
    chipId,
    hourSeconds,
    fromMs: hourSeconds * 1000,
    eventCount,
    movements: 1,
    successfulMovements: 1,
    responseTimeSumMs: 100,
    responseTimeCount: 1,
    responseTimeMaxMs: 100,
    responseTimeP95Ms: 100,
    batteryMinPct: 50,
    batteryMaxPct: 50,
    batterySumPct: 50 * eventCount,
    actuatorTempMaxC: 30,
    actuatorTempSumC: 30 * eventCount,
    errorsTotal: 0,
    errorCodes: [],
    activeMinutes: 1,
    chargingMinutes: 0,
  };
}

const known: ChipDimensions = { chipId: 'KNOWN-1', prosthesisId: 'p1', modelName: 'Hand', owners: [{ validFromMs: 0, userId: 'ada', region: 'eu' }] };

describe('deferred hours', () => {
  test('a batch splits into mart rows of known chips and deferred (chip, hour) pairs of unknown ones', () => {
    const dims = new Map<string, ChipDimensions | null>([['KNOWN-1', known], ['LATE-1', null]]);
    const split = toMartRows(
      [aggregate('KNOWN-1', 3_600, 2), aggregate('LATE-1', 3_600, 5), aggregate('LATE-1', 7_200, 1), aggregate('NEVER-1', 7_200, 3)],
      (chip) => dims.get(chip),
      42,
    );
    expect(split.rows.map((row) => [row.chip_id, row.hour, row.user_id, row._version])).toEqual([['KNOWN-1', 3_600, 'ada', 42]]);
    // A chip the lookup never answered for (undefined) is deferred like one it did not find (null).
    expect(split.deferred).toEqual([
      { chipId: 'LATE-1', hourSeconds: 3_600 },
      { chipId: 'LATE-1', hourSeconds: 7_200 },
      { chipId: 'NEVER-1', hourSeconds: 7_200 },
    ]);
    expect(split.deferredRawRows).toBe(9);
    expect(toMartRows([], () => null, 1)).toEqual({ rows: [], deferred: [], deferredRawRows: 0 });
  });

  test('the run note names deferred, still waiting and loaded hours, and says nothing when there are none', () => {
    const none = { deferredHours: 0, deferredRawRows: 0, unknownChipCount: 0, exampleChips: [], stillDeferredHours: 0, loadedFromDeferral: 0 };
    expect(describeDeferrals(none)).toBe('');
    expect(describeDeferrals({ ...none, deferredHours: 3, deferredRawRows: 17, unknownChipCount: 1, exampleChips: ['LATE-1'] })).toBe(
      'deferred 3 hours (17 raw rows) of 1 chip unknown to the CRM replica (e.g. LATE-1); they load once the replica knows the chip',
    );
    const chips = ['C-1', 'C-2', 'C-3', 'C-4', 'C-5', 'C-6'];
    expect(describeDeferrals({ deferredHours: 1, deferredRawRows: 1, unknownChipCount: 8, exampleChips: chips, stillDeferredHours: 1, loadedFromDeferral: 12 })).toBe(
      'deferred 1 hour (1 raw row) of 8 chips unknown to the CRM replica (e.g. C-1, C-2, C-3, C-4, C-5); they load once the replica knows the chip; ' +
        '1 earlier deferred hour still waits for the CRM; 12 hours loaded from earlier deferral',
    );
    expect(describeDeferrals({ ...none, stillDeferredHours: 4 })).toBe('4 earlier deferred hours still wait for the CRM');
    expect(describeDeferrals({ ...none, loadedFromDeferral: 1 })).toBe('1 hour loaded from earlier deferral');
  });
});
