import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { deriveDeviceSecret, signTelemetryBody } from '../../core/telemetry/device-signature.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';

// Real telemetry PostgreSQL (5436) through app.request(); each test uses chips of its own.
let core: CoreHarness;
let sql: postgres.Sql;
const chips: string[] = [];

beforeAll(() => {
  core = createCoreHarness({ TELEMETRY_MAX_BODY_BYTES: '65536', TELEMETRY_MAX_EVENTS: '50' });
  sql = postgres(core.env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => undefined });
});

afterAll(async () => {
  if (chips.length) await sql`delete from public.raw_telemetry where chip_id in ${sql(chips)}`;
  await sql.end();
  await core.close();
});

function newChip(): string {
  const chip = `TEST-${crypto.randomUUID().slice(0, 12)}`;
  chips.push(chip);
  return chip;
}

function event(overrides: Record<string, unknown> = {}) {
  return {
    event_id: crypto.randomUUID(),
    event_time: new Date(Date.now() - 60_000).toISOString(),
    movements: 12,
    successful_movements: 11,
    response_time_ms: 80,
    battery_pct: 77,
    actuator_temp_c: 36.5,
    error_code: null,
    charging: false,
    ...overrides,
  };
}

async function upload(chip: string, body: string, options: { contentType?: string; timestamp?: number; signAs?: string; masterKey?: string } = {}) {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const secret = await deriveDeviceSecret(options.masterKey ?? core.config.DEVICE_SECRET_KEY, options.signAs ?? chip);
  const signature = await signTelemetryBody(secret, options.signAs ?? chip, timestamp, body);
  const response = await core.request('/api/telemetry', {
    method: 'POST',
    body,
    headers: { 'content-type': options.contentType ?? 'application/json', 'x-chip-id': chip, 'x-timestamp': String(timestamp), 'x-signature': signature },
  });
  return { status: response.status, body: (await response.json()) as any };
}

const stored = async (chip: string) => (await sql`select count(*)::int as n from public.raw_telemetry where chip_id = ${chip}`)[0]!.n as number;

describe('telemetry.happy', () => {
  test('a JSON batch is stored in one go; re-sending it is answered as duplicates', async () => {
    const chip = newChip();
    const events = [event(), event({ error_code: 'E_GRIP', response_time_ms: null, movements: 0, successful_movements: 0 }), event({ charging: true })];
    const body = JSON.stringify({ chip_id: chip, events });
    const first = await upload(chip, body);
    expect(first).toEqual({ status: 200, body: { chip_id: chip, received: 3, accepted: 3, duplicate: 0, rejected: 0, duplicate_event_ids: [] } });
    const again = await upload(chip, body);
    expect(again.body).toMatchObject({ accepted: 0, duplicate: 3, rejected: 0 });
    expect(again.body.duplicate_event_ids.sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(await stored(chip)).toBe(3);
    const [row] = await sql`select error_code, response_time_ms, movements, actuator_temp_c::float8 as temp, (extract(epoch from event_time) * 1000)::bigint::text as ms from public.raw_telemetry where chip_id = ${chip} and event_id = ${events[1]!.event_id}`;
    expect(row).toMatchObject({ error_code: 'E_GRIP', response_time_ms: null, movements: 0, temp: 36.5, ms: String(Date.parse(events[1]!.event_time)) });
  });

  test('NDJSON, with an in-batch duplicate and a partly new re-send', async () => {
    const chip = newChip();
    const a = event();
    const b = event();
    const first = await upload(chip, [a, a, b].map((e) => JSON.stringify(e)).join('\n') + '\n', { contentType: 'application/x-ndjson' });
    expect(first.body).toMatchObject({ received: 3, accepted: 2, duplicate: 1 });
    const c = event();
    const second = await upload(chip, [b, c].map((e) => JSON.stringify(e)).join('\n'), { contentType: 'application/x-ndjson' });
    expect(second.body).toMatchObject({ received: 2, accepted: 1, duplicate: 1, duplicate_event_ids: [b.event_id] });
    expect(await stored(chip)).toBe(3);
  });
});

describe('telemetry.error', () => {
  test('one invalid event: 422 with reasons per event, and nothing is written', async () => {
    const chip = newChip();
    const events = [event(), event({ battery_pct: 140 }), event({ event_time: new Date(Date.now() + 3_600_000).toISOString() }), event({ successful_movements: 99 })];
    const { status, body } = await upload(chip, JSON.stringify({ events }));
    expect(status).toBe(422);
    expect(body.error.code).toBe('unprocessable');
    expect(body.error.details).toMatchObject({ accepted: 0, duplicate: 0, rejected: 3 });
    expect(body.error.details.events.map((e: { index: number }) => e.index)).toEqual([1, 2, 3]);
    expect(body.error.details.events[0].event_id).toBe(events[1]!.event_id);
    expect(body.error.details.events[1].reasons[0]).toContain('future');
    expect(await stored(chip)).toBe(0);
  });

  test('device authentication: wrong chip key, other chip, stale timestamp, tampering, missing headers', async () => {
    const chip = newChip();
    const body = JSON.stringify({ events: [event()] });
    expect((await upload(chip, body, { masterKey: 'another-master-key-0123456789' })).status).toBe(401);
    expect((await upload(chip, body, { signAs: newChip() })).status).toBe(401);
    const stale = await upload(chip, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(stale.body.error.details.reason).toBe('stale_timestamp');
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signTelemetryBody(await deriveDeviceSecret(core.config.DEVICE_SECRET_KEY, chip), chip, timestamp, body);
    const tampered = await core.request('/api/telemetry', {
      method: 'POST',
      body: body.replace('"movements":12', '"movements":13'),
      headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(timestamp), 'x-signature': signature },
    });
    expect(tampered.status).toBe(401);
    const unsigned = await core.request('/api/telemetry', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(401);
    expect(await stored(chip)).toBe(0);
  });

  test('body chip_id must match the signed header', async () => {
    const chip = newChip();
    const { status } = await upload(chip, JSON.stringify({ chip_id: 'SOMEONE-ELSE', events: [event()] }));
    expect(status).toBe(422);
  });

  test('limits: body over the byte limit → 413, too many events → 413, empty → 422', async () => {
    const chip = newChip();
    const big = JSON.stringify({ events: Array.from({ length: 40 }, () => event({ error_code: 'X'.repeat(32) })), pad: 'x'.repeat(70_000) });
    const tooBig = await upload(chip, big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    const many = await upload(chip, JSON.stringify({ events: Array.from({ length: 51 }, () => event()) }));
    expect(many.status).toBe(413);
    expect((await upload(chip, JSON.stringify({ events: [] }))).status).toBe(422);
    expect(await stored(chip)).toBe(0);
  });

  test('malformed JSON → 400, wrong content type → 415, unknown top-level field → 422', async () => {
    const chip = newChip();
    expect((await upload(chip, '{"events": [')).status).toBe(400);
    expect((await upload(chip, 'hello', { contentType: 'text/plain' })).status).toBe(415);
    expect((await upload(chip, JSON.stringify({ events: [event()], extra: true }))).status).toBe(422);
    const ndjson = await upload(chip, `${JSON.stringify(event())}\nnot json\n`, { contentType: 'application/x-ndjson' });
    expect(ndjson.status).toBe(422);
    expect(ndjson.body.error.details.events[0]).toMatchObject({ index: 1 });
    expect(await stored(chip)).toBe(0);
  });

  test('telemetry database down → 503 with Retry-After, naming it', async () => {
    const down = createCoreHarness({ TELEMETRY_DATABASE_URL: 'postgres://telemetry:x@127.0.0.1:1/telemetry' });
    try {
      const chip = newChip();
      const body = JSON.stringify({ events: [event()] });
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = await signTelemetryBody(await deriveDeviceSecret(down.config.DEVICE_SECRET_KEY, chip), chip, timestamp, body);
      const response = await down.request('/api/telemetry', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(timestamp), 'x-signature': signature } });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(((await response.json()) as any).error.details).toEqual({ dependency: 'telemetry_db' });
    } finally {
      await down.close();
    }
  });
});
