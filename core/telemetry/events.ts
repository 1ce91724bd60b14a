import { z } from '@hono/zod-openapi';

/** One device event as sent over the wire (JSON object or one NDJSON line). */
const EventIdSchema = z.uuid();
const EventTimeSchema = z.iso.datetime({ offset: true, precision: undefined });
const ERROR_CODE = /^[A-Z0-9_]{1,32}$/;

export const TelemetryEventSchema = z
  .object({
    event_id: EventIdSchema.openapi({ description: 'Chosen by the device; re-sending the same event is harmless', example: '0b9f6f1e-5d0c-4f0e-9d53-1f3f2b7e8a10' }),
    event_time: EventTimeSchema.openapi({ description: 'Device clock, ISO 8601 with zone', example: '2026-11-24T13:05:00.250Z' }),
    movements: z.number().int().min(0).max(100_000),
    successful_movements: z.number().int().min(0).max(100_000),
    response_time_ms: z.number().int().min(0).max(600_000).nullable().optional().openapi({ description: 'Mean response over the movements; null without movements' }),
    battery_pct: z.number().int().min(0).max(100),
    actuator_temp_c: z.number().min(-50).max(150),
    error_code: z.string().regex(ERROR_CODE).nullable().optional(),
    charging: z.boolean().optional(),
  })
  .strict()
  .refine((event) => event.successful_movements <= event.movements, { message: 'successful_movements exceeds movements', path: ['successful_movements'] })
  .openapi('TelemetryEvent');

export const TelemetryBatchSchema = z
  .object({
    chip_id: z.string().optional().openapi({ description: 'If present, must equal the x-chip-id header' }),
    events: z.array(z.unknown()).openapi({ description: 'TelemetryEvent objects' }),
  })
  .strict()
  .openapi('TelemetryBatch');

export interface ValidEvent {
  eventId: string;
  eventTimeMs: number;
  movements: number;
  successfulMovements: number;
  responseTimeMs: number | null;
  batteryPct: number;
  actuatorTempC: number;
  errorCode: string | null;
  charging: boolean;
}

export interface RejectedEvent {
  index: number;
  event_id?: string;
  reasons: string[];
}

export interface ClockPolicy {
  nowMs: number;
  maxFutureSkewSeconds: number;
  maxAgeDays: number;
}

/** zod's own patterns for the two string formats, so the fast path tests exactly what zod tests. */
const patternOf = (schema: unknown): RegExp | undefined => {
  const pattern = (schema as { _zod?: { pattern?: unknown } })._zod?.pattern;
  return pattern instanceof RegExp ? pattern : undefined;
};
const UUID_PATTERN = patternOf(EventIdSchema);
const DATETIME_PATTERN = patternOf(EventTimeSchema);
const EVENT_KEYS = new Set(['event_id', 'event_time', 'movements', 'successful_movements', 'response_time_ms', 'battery_pct', 'actuator_temp_c', 'error_code', 'charging']);
const isIntIn = (value: unknown, min: number, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/**
 * The common case without zod: an event every rule of TelemetryEventSchema accepts, checked with
 * plain comparisons (zod's per-event parse was ~70 % of core's CPU per ingested event). Returns the
 * event as zod would (the schema transforms nothing), or undefined for anything else, which then
 * goes through zod for its verdict and reasons. Only ever stricter than the schema:
 * tests/core/telemetry-events.unit.test.ts checks that on a large generated set.
 */
export function acceptEventFast(candidate: unknown): z.infer<typeof TelemetryEventSchema> | undefined {
  if (!UUID_PATTERN || !DATETIME_PATTERN) return undefined;
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return undefined;
  const e = candidate as Record<string, unknown>;
  for (const key in e) if (!EVENT_KEYS.has(key)) return undefined;
  const { event_id, event_time, movements, successful_movements, response_time_ms, battery_pct, actuator_temp_c, error_code, charging } = e;
  if (typeof event_id !== 'string' || !UUID_PATTERN.test(event_id)) return undefined;
  if (typeof event_time !== 'string' || !DATETIME_PATTERN.test(event_time)) return undefined;
  if (!isIntIn(movements, 0, 100_000) || !isIntIn(successful_movements, 0, 100_000) || successful_movements > movements) return undefined;
  if (response_time_ms !== undefined && response_time_ms !== null && !isIntIn(response_time_ms, 0, 600_000)) return undefined;
  if (!isIntIn(battery_pct, 0, 100)) return undefined;
  if (typeof actuator_temp_c !== 'number' || !(actuator_temp_c >= -50 && actuator_temp_c <= 150)) return undefined;
  if (error_code !== undefined && error_code !== null && (typeof error_code !== 'string' || !ERROR_CODE.test(error_code))) return undefined;
  if (charging !== undefined && typeof charging !== 'boolean') return undefined;
  return e as z.infer<typeof TelemetryEventSchema>;
}

/** Validates every event (types, ranges, clock) and reports all reasons, not just the first. */
export function validateEvents(raw: unknown[], clock: ClockPolicy, options: { fastPath?: boolean } = {}): { valid: ValidEvent[]; rejected: RejectedEvent[] } {
  const fastPath = options.fastPath ?? true;
  const valid: ValidEvent[] = [];
  const rejected: RejectedEvent[] = [];
  raw.forEach((candidate, index) => {
    const eventId = candidate && typeof candidate === 'object' && typeof (candidate as { event_id?: unknown }).event_id === 'string' ? (candidate as { event_id: string }).event_id.slice(0, 64) : undefined;
    let event = fastPath ? acceptEventFast(candidate) : undefined;
    if (!event) {
      const parsed = TelemetryEventSchema.safeParse(candidate);
      if (!parsed.success) {
        rejected.push({ index, event_id: eventId, reasons: parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'event'}: ${issue.message}`) });
        return;
      }
      event = parsed.data;
    }
    const eventTimeMs = Date.parse(event.event_time);
    const reasons: string[] = [];
    if (eventTimeMs > clock.nowMs + clock.maxFutureSkewSeconds * 1000) reasons.push(`event_time: more than ${clock.maxFutureSkewSeconds} s in the future (device clock skew)`);
    if (eventTimeMs < clock.nowMs - clock.maxAgeDays * 86_400_000) reasons.push(`event_time: older than ${clock.maxAgeDays} days`);
    if (reasons.length) {
      rejected.push({ index, event_id: eventId, reasons });
      return;
    }
    valid.push({
      eventId: event.event_id.toLowerCase(),
      eventTimeMs,
      movements: event.movements,
      successfulMovements: event.successful_movements,
      responseTimeMs: event.response_time_ms ?? null,
      batteryPct: event.battery_pct,
      actuatorTempC: Math.round(event.actuator_temp_c * 100) / 100,
      errorCode: event.error_code ?? null,
      charging: event.charging ?? false,
    });
  });
  return { valid, rejected };
}

/** Identity of an event, as the telemetry table's key sees it (chip is the batch's). */
export function eventIdentity(event: { eventId: string; eventTimeMs: number }): string {
  return `${event.eventId}|${event.eventTimeMs}`;
}
