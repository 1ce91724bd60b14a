import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { boundedBody } from '../../common/http/bounded-body.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { errorResponseDoc } from '../../common/http/openapi.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { requireDeviceSignature } from './device-auth.ts';
import { eventIdentity, TelemetryBatchSchema, validateEvents, type RejectedEvent } from './events.ts';

export const IngestResultSchema = z
  .object({
    chip_id: z.string(),
    received: z.number().int(),
    accepted: z.number().int().openapi({ description: 'Newly stored events' }),
    duplicate: z.number().int().openapi({ description: 'Events already stored (re-sent); ignored' }),
    rejected: z.number().int(),
    duplicate_event_ids: z.array(z.string()).openapi({ description: 'Ids of ignored re-sent events (first 100)' }),
  })
  .openapi('TelemetryIngestResult');
export type IngestResult = z.infer<typeof IngestResultSchema>;

export const ingestTelemetryRoute = createRoute({
  method: 'post',
  path: '/api/telemetry',
  tags: ['telemetry'],
  summary: 'Upload a batch of events from one prosthesis chip (JSON or NDJSON), device-signed',
  description: [
    'Headers: `x-chip-id`, `x-timestamp` (unix seconds, within the replay window) and `x-signature`:',
    'hex HMAC-SHA256 over `${timestamp}.${chip_id}.${raw body}` with the device secret',
    'HMAC-SHA256(DEVICE_SECRET_KEY, chip_id). A batch is all-or-nothing: one invalid event → 422 and',
    'nothing is written. Re-sent events (same chip, event_id and event_time) are counted as duplicates.',
  ].join(' '),
  request: {
    headers: z.object({
      'x-chip-id': z.string().openapi({ example: 'CHIP-0001' }),
      'x-timestamp': z.string().openapi({ example: '1764000000' }),
      'x-signature': z.string().openapi({ example: '3f…64 hex' }),
    }),
    body: {
      required: false,
      content: {
        'application/json': { schema: TelemetryBatchSchema },
        'application/x-ndjson': { schema: z.string().openapi({ description: 'One TelemetryEvent JSON object per line' }) },
      },
    },
  },
  responses: {
    200: { description: 'Batch stored (or already stored)', content: { 'application/json': { schema: IngestResultSchema } } },
    400: errorResponseDoc('Body is not JSON / NDJSON'),
    401: errorResponseDoc('Missing or bad device signature, or timestamp outside the replay window'),
    413: errorResponseDoc('Body or event count over the limit'),
    415: errorResponseDoc('Content type is neither application/json nor application/x-ndjson'),
    422: errorResponseDoc('Invalid events (per-event reasons in details); nothing was written'),
    503: errorResponseDoc('Telemetry database unavailable; retry later'),
  },
});

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

/** NDJSON: one event per non-empty line; a line that is not JSON is rejected with its number. */
function parseNdjson(text: string): { events: unknown[]; broken: RejectedEvent[] } {
  const events: unknown[] = [];
  const broken: RejectedEvent[] = [];
  text.split('\n').forEach((line) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line));
    } catch {
      broken.push({ index: events.length + broken.length, reasons: ['line is not a JSON object'] });
      events.push(undefined);
    }
  });
  return { events, broken };
}

export function registerIngestTelemetry(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  const { config } = deps;
  // Before the signature check reads the body: a chunked upload of any size stops at the limit.
  const limit = boundedBody(config.TELEMETRY_MAX_BODY_BYTES);
  const deviceAuth = requireDeviceSignature({ masterKey: config.DEVICE_SECRET_KEY, replayWindowSeconds: config.TELEMETRY_REPLAY_WINDOW_SECONDS, now: deps.now });

  app.openapi({ ...ingestTelemetryRoute, middleware: [limit, deviceAuth] as const }, async (c) => {
    const chipId = c.get('deviceChipId')!;
    const contentType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    let raw: unknown[];
    if (contentType === 'application/json') {
      // The validator ran (this is the JSON content type), so the body has the batch shape.
      const batch = c.req.valid('json') as z.infer<typeof TelemetryBatchSchema>;
      if (batch.chip_id !== undefined && batch.chip_id !== chipId) {
        throw new ApiError({ code: ErrorCode.unprocessable, message: 'chip_id in the body differs from the signed x-chip-id header' });
      }
      raw = batch.events;
    } else if (NDJSON_TYPES.includes(contentType)) {
      raw = parseNdjson(await c.req.text()).events;
    } else {
      throw new ApiError({ code: ErrorCode.unsupported_media_type, message: 'Send application/json ({events:[…]}) or application/x-ndjson' });
    }

    if (raw.length === 0) throw new ApiError({ code: ErrorCode.unprocessable, message: 'The batch holds no events' });
    if (raw.length > config.TELEMETRY_MAX_EVENTS) {
      throw new ApiError({ code: ErrorCode.payload_too_large, message: `A batch holds at most ${config.TELEMETRY_MAX_EVENTS} events, got ${raw.length}` });
    }

    const { valid, rejected } = validateEvents(raw, {
      nowMs: deps.now(),
      maxFutureSkewSeconds: config.TELEMETRY_MAX_FUTURE_SKEW_SECONDS,
      maxAgeDays: config.TELEMETRY_MAX_AGE_DAYS,
    });
    if (rejected.length > 0) {
      deps.metrics.telemetryEvents.inc({ outcome: 'rejected' }, rejected.length);
      addToWideEvent(c, { received: raw.length, rejected: rejected.length });
      throw new ApiError({
        code: ErrorCode.unprocessable,
        message: `${rejected.length} of ${raw.length} events are invalid; nothing was written`,
        details: { accepted: 0, duplicate: 0, rejected: rejected.length, events: rejected.slice(0, 100) },
      });
    }

    // The same event twice in one batch is stored once; the copy counts as a duplicate.
    const unique = new Map(valid.map((event) => [eventIdentity(event), event]));
    const inserted = await deps.telemetryStore.insertBatch(chipId, [...unique.values()]);
    const seen = new Set<string>();
    const duplicateIds = new Set<string>();
    for (const event of valid) {
      const identity = eventIdentity(event);
      if (seen.has(identity) || !inserted.has(identity)) duplicateIds.add(event.eventId);
      seen.add(identity);
    }
    const result: IngestResult = {
      chip_id: chipId,
      received: raw.length,
      accepted: inserted.size,
      duplicate: raw.length - inserted.size,
      rejected: 0,
      duplicate_event_ids: [...duplicateIds].slice(0, 100),
    };
    deps.metrics.telemetryEvents.inc({ outcome: 'accepted' }, result.accepted);
    deps.metrics.telemetryEvents.inc({ outcome: 'duplicate' }, result.duplicate);
    addToWideEvent(c, { received: result.received, accepted: result.accepted, duplicate: result.duplicate });
    return c.json(result, 200);
  });
}
