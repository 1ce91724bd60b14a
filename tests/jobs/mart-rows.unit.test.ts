import { describe, expect, test } from 'bun:test';
import { countErrorCodes, toMartRow } from '../../jobs/etl/mart-rows.ts';
import type { HourlyAggregate } from '../../jobs/etl/hourly-aggregates.ts';

describe('mart rows', () => {
  test('error codes become two parallel arrays sorted by code', () => {
    expect(countErrorCodes(['E_SENSOR', 'E_MOTOR', 'E_SENSOR', 'E_OVERHEAT', 'E_SENSOR'])).toEqual({
      codes: ['E_MOTOR', 'E_OVERHEAT', 'E_SENSOR'],
      counts: [1, 1, 3],
    });
    expect(countErrorCodes([])).toEqual({ codes: [], counts: [] });
  });

  test('an aggregate and its dimensions make one versioned row', () => {
    const aggregate: HourlyAggregate = {
      chipId: 'CHIP-0001',
      hourSeconds: 1_795_593_600,
      fromMs: 1_795_593_600_000,
      eventCount: 3,
      movements: 40,
      successfulMovements: 38,
      responseTimeSumMs: 8_000,
      responseTimeCount: 40,
      responseTimeMaxMs: 300,
      responseTimeP95Ms: 300,
      batteryMinPct: 40,
      batteryMaxPct: 42,
      batterySumPct: 123,
      actuatorTempMaxC: 38.5,
      actuatorTempSumC: 110.25,
      errorsTotal: 2,
      errorCodes: ['E_SENSOR', 'E_MOTOR'],
      activeMinutes: 3,
      chargingMinutes: 0,
    };
    const row = toMartRow(aggregate, { prosthesisId: 'p', modelName: 'Hand' }, { userId: 'ada', region: 'eu' }, 42);
    expect(row).toMatchObject({ user_id: 'ada', prosthesis_id: 'p', hour: 1_795_593_600, error_codes: ['E_MOTOR', 'E_SENSOR'], error_counts: [1, 1], _version: 42 });
  });
});
