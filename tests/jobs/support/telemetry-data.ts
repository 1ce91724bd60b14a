import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';

/** A raw_telemetry row as the tests write it. */
export interface RawEvent {
  event_id: string;
  chip_id: string;
  event_time: string;
  received_at: string;
  movements: number;
  successful_movements: number;
  response_time_ms: number | null;
  battery_pct: number;
  actuator_temp_c: string;
  error_code: string | null;
  charging: boolean;
}

/** mulberry32: small, seedable, good enough for test data that must be reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ERROR_CODES = ['E_OVERHEAT', 'E_SENSOR', 'E_MOTOR', 'E_BATTERY'];
export const HOUR_MS = 3_600_000;

/**
 * Events for each chip over `hours` UTC hours from `startMs` (an hour boundary): 0–9 events an
 * hour at random milliseconds, with every column's edge cases (no movement, no response time,
 * errors, charging), received `receivedDelayMs` after they happened.
 */
export function generateEvents(options: { chips: readonly string[]; startMs: number; hours: number; seed: number; receivedDelayMs?: number }): RawEvent[] {
  const random = seededRandom(options.seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const events: RawEvent[] = [];
  for (const chip of options.chips) {
    for (let h = 0; h < options.hours; h++) {
      const count = int(0, 9);
      for (let i = 0; i < count; i++) {
        const eventMs = options.startMs + h * HOUR_MS + int(0, HOUR_MS - 1);
        const movements = random() < 0.15 ? 0 : int(1, 60);
        events.push({
          event_id: randomUUID(),
          chip_id: chip,
          event_time: new Date(eventMs).toISOString(),
          received_at: new Date(eventMs + (options.receivedDelayMs ?? 2_000)).toISOString(),
          movements,
          successful_movements: movements === 0 ? 0 : int(0, movements),
          response_time_ms: movements === 0 || random() < 0.1 ? null : int(40, 950),
          battery_pct: int(0, 100),
          actuator_temp_c: (int(-1000, 9000) / 100).toFixed(2),
          error_code: random() < 0.2 ? ERROR_CODES[int(0, ERROR_CODES.length - 1)]! : null,
          charging: random() < 0.15,
        });
      }
    }
  }
  return events;
}

export async function insertEvents(sql: postgres.Sql, schema: string, events: readonly RawEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1_000) {
    const chunk = events.slice(i, i + 1_000);
    await sql`insert into ${sql(`${schema}.raw_telemetry`)} ${sql(chunk as RawEvent[])}`;
  }
}
