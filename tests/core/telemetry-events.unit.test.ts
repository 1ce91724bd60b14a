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

// The zod-free fast path must never accept what TelemetryEventSchema refuses, nor change what it
// returns: every generated batch gets the same verdicts, reasons and values with and without it.
describe('telemetry event validation: fast path = zod', () => {
  // A small deterministic generator (mulberry32), so a failure reproduces.
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const numbers = [0, 1, -1, 11, 12, 50, 100, 101, 149.99, 150, 150.01, -50, -50.01, 600_000, 600_001, 100_000, 100_001, 2 ** 53, 1.5, -0, Number.NaN, Infinity, '12', null, true, undefined];
  const variants: Record<string, readonly unknown[]> = {
    event_id: [good.event_id, good.event_id.toUpperCase(), '00000000-0000-0000-0000-000000000000', '0b9f6f1e-5d0c-9f0e-9d53-1f3f2b7e8a10', '0b9f6f1e-5d0c-4f0e-7d53-1f3f2b7e8a10', '0b9f6f1e5d0c4f0e9d531f3f2b7e8a10', ` ${good.event_id}`, '', 42, null, undefined],
    event_time: ['2026-11-24T11:59:00.250Z', '2026-11-24T11:59:00Z', '2026-11-24T11:59Z', '2026-11-24T14:59:00.123456789+03:00', '2026-11-24T11:59:00.250', '2026-11-24 11:59:00Z', '2026-02-29T00:00:00Z', '2024-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-24T24:00:00Z', '2026-11-24T11:60:00Z', '2026-11-24T11:59:00+24:00', '2020-01-01T00:00:00Z', '2026-11-24T12:10:00Z', 1764000000, null, undefined],
    movements: numbers,
    successful_movements: numbers,
    response_time_ms: numbers,
    battery_pct: numbers,
    actuator_temp_c: numbers,
    error_code: ['E_GRIP', 'E', 'e_grip', 'E-GRIP', 'A'.repeat(32), 'A'.repeat(33), '', null, undefined, 7],
    charging: [true, false, null, 'true', 0, undefined],
  };
  const fields = Object.keys(variants);

  function generate(): unknown {
    const roll = random();
    if (roll < 0.02) return pick([null, [], 'event', 42, [good]]);
    const event: Record<string, unknown> = { ...good };
    const mutations = roll < 0.35 ? 0 : 1 + Math.floor(random() * 3);
    for (let m = 0; m < mutations; m++) {
      const field = pick(fields);
      const value = pick(variants[field]!);
      if (value === undefined) delete event[field];
      else event[field] = value;
    }
    if (random() < 0.03) event[pick(['extra', '__proto__', 'chip_id'])] = 1;
    return event;
  }

  test('3,000 generated events: same valid events, same rejections and reasons', () => {
    const raw = Array.from({ length: 3_000 }, generate);
    const fast = validateEvents(raw, clock);
    const zodOnly = validateEvents(raw, clock, { fastPath: false });
    expect(fast).toEqual(zodOnly);
    // The set must exercise both sides, or the comparison proves nothing.
    expect(fast.valid.length).toBeGreaterThan(1_000);
    expect(fast.rejected.length).toBeGreaterThan(500);
  });
});
