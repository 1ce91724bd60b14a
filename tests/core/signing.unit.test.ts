import { describe, expect, test } from 'bun:test';
import { signPurgeRequest, signReportUrl, verifyPurgeRequest, verifyReportUrl } from '../../common/cdn/signing.ts';
import { deriveDeviceSecret, signTelemetryBody, verifyDeviceSignature } from '../../core/telemetry/device-signature.ts';

const KEY = 'k'.repeat(32);
const NOW = 1_800_000_000;

describe('signed report URLs', () => {
  test('round trip; path, expiry and signature are all bound', async () => {
    const url = await signReportUrl({ cdnUrl: 'http://localhost:8002/', key: 'ivan.petrov/daily/2026-11-24/report.json', expiresAtSeconds: NOW + 300, signingKey: KEY });
    expect(url).toStartWith('http://localhost:8002/reports/ivan.petrov/daily/2026-11-24/report.json?exp=');
    expect(await verifyReportUrl(new URL(url), KEY, NOW)).toEqual({ ok: true, key: 'ivan.petrov/daily/2026-11-24/report.json' });
    // Another user's object with the same signature
    expect(await verifyReportUrl(new URL(url.replace('ivan.petrov', 'olga.smirnova')), KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    // A later expiry with the same signature
    expect(await verifyReportUrl(new URL(url.replace(`exp=${NOW + 300}`, `exp=${NOW + 3000}`)), KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifyReportUrl(new URL(url), KEY, NOW + 301)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyReportUrl(new URL(url), 'x'.repeat(32), NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('keys outside the report shape are refused', async () => {
    for (const key of ['../etc/passwd', 'a/../../b', '/abs/x.json', 'user', 'user/a b.json']) {
      await expect(signReportUrl({ cdnUrl: 'http://x', key, expiresAtSeconds: NOW, signingKey: KEY })).rejects.toThrow();
    }
    expect(await verifyReportUrl(new URL('http://x/reports/../secret?exp=1&sig=x'), KEY, NOW)).toMatchObject({ ok: false });
  });

  test('purge requests are signed over timestamp, nonce and body, with a key of their own', async () => {
    const body = JSON.stringify({ prefixes: ['ivan.petrov/'] });
    const headers = new Headers(await signPurgeRequest(body, KEY, NOW));
    const nonce = headers.get('x-cdn-nonce')!;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // The nonce is returned for the edge to claim until the window closes.
    expect(await verifyPurgeRequest(headers, body, KEY, NOW + 10)).toEqual({ ok: true, nonce, nonceExpiresAtSeconds: NOW + 300 });
    // Each signing draws a new nonce; a nonce swapped into a captured request breaks its signature.
    expect(new Headers(await signPurgeRequest(body, KEY, NOW)).get('x-cdn-nonce')).not.toBe(nonce);
    const swapped = new Headers(headers);
    swapped.set('x-cdn-nonce', `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`);
    expect(await verifyPurgeRequest(swapped, body, KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const noNonce = new Headers(headers);
    noNonce.delete('x-cdn-nonce');
    expect(await verifyPurgeRequest(noNonce, body, KEY, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifyPurgeRequest(headers, JSON.stringify({ all: true }), KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await verifyPurgeRequest(headers, body, KEY, NOW + 3600)).toEqual({ ok: false, reason: 'stale' });
    // A URL signature never passes as a purge signature.
    const url = new URL(await signReportUrl({ cdnUrl: 'http://x', key: 'a/list/reports.json', expiresAtSeconds: NOW, signingKey: KEY }));
    const forged = new Headers({ 'x-cdn-timestamp': String(NOW), 'x-cdn-signature': url.searchParams.get('sig')! });
    expect((await verifyPurgeRequest(forged, body, KEY, NOW)).ok).toBe(false);
  });
});

describe('device signatures', () => {
  const body = new TextEncoder().encode('{"events":[]}');
  async function check(overrides: Partial<Parameters<typeof verifyDeviceSignature>[0]> = {}) {
    const secret = await deriveDeviceSecret(KEY, 'CHIP-0001');
    const signature = await signTelemetryBody(secret, 'CHIP-0001', NOW, body);
    return verifyDeviceSignature({ masterKey: KEY, chipId: 'CHIP-0001', timestamp: String(NOW), signature, body, nowSeconds: NOW + 5, replayWindowSeconds: 300, ...overrides });
  }

  test('a correctly signed body passes', async () => {
    expect(await check()).toEqual({ ok: true, chipId: 'CHIP-0001' });
  });

  test('per-device secrets differ, so one chip cannot sign for another', async () => {
    const a = await deriveDeviceSecret(KEY, 'CHIP-0001');
    const b = await deriveDeviceSecret(KEY, 'CHIP-0002');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(await check({ chipId: 'CHIP-0002' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('tampered body, stale or future timestamp, missing headers, bad chip id', async () => {
    expect(await check({ body: new TextEncoder().encode('{"events":[1]}') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await check({ nowSeconds: NOW + 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(await check({ nowSeconds: NOW - 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(await check({ signature: undefined })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(await check({ chipId: "x'; drop" })).toEqual({ ok: false, reason: 'bad_chip_id' });
    expect(await check({ signature: 'zz' })).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
