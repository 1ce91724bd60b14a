/**
 * Device authentication for telemetry uploads, Web Crypto only.
 *
 * Every device holds one secret: HMAC-SHA256(DEVICE_SECRET_KEY, chip_id), burned in at
 * provisioning. Core derives it again on each request, so there is no table of device secrets to
 * store, leak or keep in sync; rotating DEVICE_SECRET_KEY re-keys every device at once.
 *
 * A request carries:
 *   x-chip-id:    the chip
 *   x-timestamp:  unix seconds when the device signed
 *   x-signature:  hex HMAC-SHA256(device secret, `${timestamp}.${chip_id}.${raw body}`)
 * The timestamp must lie within the replay window. A request replayed inside the window changes
 * nothing, because every event is stored once per identity (the answer then says "duplicate").
 */

export const CHIP_ID_PATTERN = /^[A-Za-z0-9_-]{4,64}$/;
const encoder = new TextEncoder();

async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, message as BufferSource));
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export async function deriveDeviceSecret(masterKey: string, chipId: string): Promise<Uint8Array> {
  return hmacSha256(encoder.encode(masterKey), encoder.encode(chipId));
}

/** What a device (or the demo generator, or a test) sends as x-signature. */
export async function signTelemetryBody(deviceSecret: Uint8Array, chipId: string, timestampSeconds: number, body: Uint8Array | string): Promise<string> {
  const raw = typeof body === 'string' ? encoder.encode(body) : body;
  return toHex(await hmacSha256(deviceSecret, concat(encoder.encode(`${timestampSeconds}.${chipId}.`), raw)));
}

export type DeviceCheck =
  | { ok: true; chipId: string }
  | { ok: false; reason: 'missing_headers' | 'bad_chip_id' | 'stale_timestamp' | 'bad_signature' };

/** Checks the headers and signature of one upload; the body must be the exact bytes received. */
export async function verifyDeviceSignature(options: {
  masterKey: string;
  chipId: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array;
  nowSeconds: number;
  replayWindowSeconds: number;
}): Promise<DeviceCheck> {
  const { chipId, timestamp, signature } = options;
  if (!chipId || !timestamp || !signature) return { ok: false, reason: 'missing_headers' };
  if (!CHIP_ID_PATTERN.test(chipId)) return { ok: false, reason: 'bad_chip_id' };
  if (!/^\d{9,11}$/.test(timestamp) || Math.abs(options.nowSeconds - Number(timestamp)) > options.replayWindowSeconds) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  if (!/^[0-9a-f]{64}$/i.test(signature)) return { ok: false, reason: 'bad_signature' };
  const expected = await signTelemetryBody(await deriveDeviceSecret(options.masterKey, chipId), chipId, Number(timestamp), options.body);
  let diff = 0;
  const given = signature.toLowerCase();
  for (let i = 0; i < 64; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0 ? { ok: true, chipId } : { ok: false, reason: 'bad_signature' };
}
