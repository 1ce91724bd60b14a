import { describe, expect, test } from 'bun:test';
import { validateEvents } from '../../core/telemetry/events.ts';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const clock = { nowMs: NOW, maxFutureSkewSeconds: 300, maxAgeDays: 30 };
const good = {
  event_id: '0b9f6f1e-5d0c-4f0e-9d53-1f3f2b7e8a10',
  event_time: '2026-11-24T11:59:00.250Z',
  movements: 12,
  successful_movements: 11,
  response_time_ms: 85,
  battery_pct: 76,
  actuator_temp_c: 36.456,
  error_code: null,
  charging: false,
};

describe('telemetry event validation', () => {
  test('a good event is normalised', () => {
    const { valid, rejected } = validateEvents([good], clock);
    expect(rejected).toEqual([]);
    expect(valid[0]).toEqual({
      eventId: good.event_id,
      eventTimeMs: Date.parse(good.event_time),
      movements: 12,
      successfulMovements: 11,
      responseTimeMs: 85,
      batteryPct: 76,
      actuatorTempC: 36.46,
      errorCode: null,
      charging: false,
    });
  });

  test('every reason is reported, with the event index and id', () => {
    const events = [
      { ...good, battery_pct: 101 },
      { ...good, successful_movements: 13 },
      { ...good, event_time: '2026-11-24T12:10:00Z' },
      { ...good, event_time: '2026-09-01T00:00:00Z' },
      { ...good, event_id: 'not-a-uuid', movements: -1 },
      { ...good, error_code: "x'); drop table raw_telemetry; --" },
      { ...good, extra: 1 },
      'not an object',
      { ...good, event_time: '2026-11-24 11:59:00' },
      { ...good, movements: 1.5 },
    ];
    const { valid, rejected } = validateEvents(events, clock);
    expect(valid).toEqual([]);
    expect(rejected.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rejected[0]!.reasons[0]).toContain('battery_pct');
    expect(rejected[1]!.reasons[0]).toContain('successful_movements');
    expect(rejected[2]!.reasons[0]).toContain('future');
    expect(rejected[3]!.reasons[0]).toContain('older than 30 days');
    expect(rejected[4]!.reasons.join('\n')).toContain('event_id');
    expect(rejected[4]!.reasons.join('\n')).toContain('movements');
    expect(rejected[0]!.event_id).toBe(good.event_id);
  });
});
