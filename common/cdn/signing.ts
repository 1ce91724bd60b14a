/**
 * The contract between core (which hands out report URLs and purges) and the CDN edge (which
 * serves and purges): HMAC-SHA256 with CDN_SIGNING_KEY, Web Crypto only so the edge can import it.
 *
 * Report URL:  `${CDN_URL}/reports/${key}?exp=<unix seconds>&sig=<base64url HMAC>`
 *   signed message: `GET\n/reports/${key}\n${exp}`; keys use only [A-Za-z0-9._@/-], so the path
 *   needs no percent-encoding and the edge verifies exactly `url.pathname`.
 * Purge:  `POST ${CDN_URL}/purge` with JSON `{"prefixes":["user/"]}` or `{"all":true}` and headers
 *   `x-cdn-timestamp: <unix seconds>`, `x-cdn-nonce: <base64url, 22-64 chars>`,
 *   `x-cdn-signature: <base64url HMAC>` over `POST\n/purge\n${timestamp}\n${nonce}\n${body}`, under
 *   a key derived from CDN_SIGNING_KEY (label "cdn-purge") so a leaked URL signature can never
 *   authorise a purge. The timestamp bounds a captured request to the window; the nonce, remembered
 *   by the edge until that window closes, makes it usable once.
 */

const encoder = new TextEncoder();

export const REPORT_PATH_PREFIX = '/reports/';
export const PURGE_PATH = '/purge';
export const PURGE_TIMESTAMP_HEADER = 'x-cdn-timestamp';
export const PURGE_SIGNATURE_HEADER = 'x-cdn-signature';
export const PURGE_NONCE_HEADER = 'x-cdn-nonce';
const NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
/** Keys are S3 object keys of report documents: user segment, kind, optional date, file name. */
export const REPORT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){1,3}$/;

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Importing a key costs as much as the HMAC itself; a process signs with one or two secrets.
const importedKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string | Uint8Array): Promise<CryptoKey> {
  const raw = typeof secret === 'string' ? encoder.encode(secret) : secret;
  const cacheKey = typeof secret === 'string' ? `s:${secret}` : `b:${Array.from(secret).join(',')}`;
  let key = importedKeys.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey('raw', raw as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    if (importedKeys.size < 16) importedKeys.set(cacheKey, key);
  }
  return key;
}

async function hmac(secret: string | Uint8Array, message: string): Promise<string> {
  return toBase64Url(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message)));
}

/** Constant-time comparison of two ASCII strings. */
export function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function reportUrlMessage(path: string, expiresAtSeconds: number): string {
  return `GET\n${path}\n${expiresAtSeconds}`;
}

/** A short-lived URL for one report object; the object itself is never public. */
export async function signReportUrl(options: { cdnUrl: string; key: string; expiresAtSeconds: number; signingKey: string }): Promise<string> {
  if (!REPORT_KEY_PATTERN.test(options.key)) throw new Error(`not a report object key: ${options.key}`);
  if (!Number.isSafeInteger(options.expiresAtSeconds) || options.expiresAtSeconds <= 0) throw new Error('expiresAtSeconds must be a positive integer');
  const path = `${REPORT_PATH_PREFIX}${options.key}`;
  const sig = await hmac(options.signingKey, reportUrlMessage(path, options.expiresAtSeconds));
  return `${options.cdnUrl.replace(/\/$/, '')}${path}?exp=${options.expiresAtSeconds}&sig=${sig}`;
}

export type ReportUrlCheck = { ok: true; key: string } | { ok: false; reason: 'malformed' | 'expired' | 'bad_signature' };

/** The edge's check of a report URL: path shape, expiry against `nowSeconds`, then the signature. */
export async function verifyReportUrl(url: URL, signingKey: string, nowSeconds: number): Promise<ReportUrlCheck> {
  const path = url.pathname;
  const key = path.startsWith(REPORT_PATH_PREFIX) ? path.slice(REPORT_PATH_PREFIX.length) : '';
  const exp = url.searchParams.get('exp') ?? '';
  const sig = url.searchParams.get('sig') ?? '';
  if (!REPORT_KEY_PATTERN.test(key) || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: 'malformed' };
  if (Number(exp) < nowSeconds) return { ok: false, reason: 'expired' };
  const expected = await hmac(signingKey, reportUrlMessage(path, Number(exp)));
  return timingSafeEqualText(expected, sig) ? { ok: true, key } : { ok: false, reason: 'bad_signature' };
}

async function purgeKey(signingKey: string): Promise<Uint8Array> {
  const derived = await crypto.subtle.sign('HMAC', await hmacKey(signingKey), encoder.encode('cdn-purge'));
  return new Uint8Array(derived);
}

export function purgeMessage(timestampSeconds: number, nonce: string, body: string): string {
  return `POST\n${PURGE_PATH}\n${timestampSeconds}\n${nonce}\n${body}`;
}

/** 128 random bits, base64url: a fresh one per purge request. */
export function newPurgeNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)).buffer as ArrayBuffer);
}

/** Headers authenticating a purge request body, each call with a new nonce unless one is given. */
export async function signPurgeRequest(body: string, signingKey: string, nowSeconds: number, nonce = newPurgeNonce()): Promise<Record<string, string>> {
  if (!NONCE_PATTERN.test(nonce)) throw new Error('purge nonce must be 22-64 base64url characters');
  const signature = await hmac(await purgeKey(signingKey), purgeMessage(nowSeconds, nonce, body));
  return { [PURGE_TIMESTAMP_HEADER]: String(nowSeconds), [PURGE_NONCE_HEADER]: nonce, [PURGE_SIGNATURE_HEADER]: signature };
}

export type PurgeRequestCheck =
  | { ok: true; nonce: string; nonceExpiresAtSeconds: number }
  | { ok: false; reason: 'malformed' | 'stale' | 'bad_signature' };

/**
 * The edge's check of a purge request: shape, the timestamp within `windowSeconds`, the signature.
 * It cannot see replays; the caller claims the returned nonce in a shared store until
 * `nonceExpiresAtSeconds`, after which the timestamp check alone refuses the request.
 */
export async function verifyPurgeRequest(headers: Headers, body: string, signingKey: string, nowSeconds: number, windowSeconds = 300): Promise<PurgeRequestCheck> {
  const timestamp = headers.get(PURGE_TIMESTAMP_HEADER) ?? '';
  const nonce = headers.get(PURGE_NONCE_HEADER) ?? '';
  const signature = headers.get(PURGE_SIGNATURE_HEADER) ?? '';
  if (!/^\d{1,12}$/.test(timestamp) || !NONCE_PATTERN.test(nonce) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - Number(timestamp)) > windowSeconds) return { ok: false, reason: 'stale' };
  const expected = await hmac(await purgeKey(signingKey), purgeMessage(Number(timestamp), nonce, body));
  if (!timingSafeEqualText(expected, signature)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, nonce, nonceExpiresAtSeconds: Number(timestamp) + windowSeconds };
}
