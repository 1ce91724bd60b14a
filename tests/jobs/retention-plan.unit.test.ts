import { describe, expect, test } from 'bun:test';
import { martPartitionsToDrop, partitionUpperBound, rawPartitionsToDrop, retentionCutoff } from '../../jobs/retention/retention-plan.ts';

describe('retention plan', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  test('the cutoff is now minus the horizon', () => {
    expect(retentionCutoff(now, 90).toISOString()).toBe('2026-08-27T12:00:00.000Z');
    expect(() => retentionCutoff(now, 0)).toThrow();
  });

  test('a mart month goes only when all of it is past the cutoff', () => {
    const cutoff = new Date('2026-08-27T12:00:00Z');
    expect(martPartitionsToDrop(['202609', '202607', '202608', '202512', 'garbage', '2026071'], cutoff)).toEqual(['202512', '202607']);
    // The month ending exactly at the cutoff goes.
    expect(martPartitionsToDrop(['202607'], new Date('2026-08-01T00:00:00Z'))).toEqual(['202607']);
    expect(martPartitionsToDrop(['202607'], new Date('2026-07-31T23:59:59Z'))).toEqual([]);
  });

  test('PostgreSQL partition bounds parse in a UTC session, with or without minutes in the offset', () => {
    expect(partitionUpperBound("FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')")?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(partitionUpperBound("FOR VALUES FROM ('2026-10-01 03:00:00+03') TO ('2026-11-01 03:00:00+03')")?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(partitionUpperBound("FOR VALUES FROM ('2026-10-01 05:30:00+05:30') TO ('2026-11-01 05:30:00+05:30')")?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(partitionUpperBound('DEFAULT')).toBeUndefined();
  });

  test('raw partitions: only whole months before the cutoff, never the default partition', () => {
    const parts = [
      { name: 'raw_telemetry_default', bound: 'DEFAULT' },
      { name: 'raw_telemetry_2026_07', bound: "FOR VALUES FROM ('2026-07-01 00:00:00+00') TO ('2026-08-01 00:00:00+00')" },
      { name: 'raw_telemetry_2026_08', bound: "FOR VALUES FROM ('2026-08-01 00:00:00+00') TO ('2026-09-01 00:00:00+00')" },
      { name: 'raw_telemetry_2026_06', bound: "FOR VALUES FROM ('2026-06-01 00:00:00+00') TO ('2026-07-01 00:00:00+00')" },
    ];
    expect(rawPartitionsToDrop(parts, new Date('2026-08-27T12:00:00Z'))).toEqual(['raw_telemetry_2026_06', 'raw_telemetry_2026_07']);
  });
});
