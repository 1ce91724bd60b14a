import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding, encodeBase64urlNoPadding } from '@oslojs/encoding';

/**
 * Session tokens the Lucia way: `<id>.<secret>`, both 120 random bits. The store is keyed by the
 * id and keeps only a hash of the secret, so a copy of the store (or a log line naming an id)
 * cannot be turned into a working cookie; the secret is compared in constant time.
 */
export interface SessionToken {
  id: string;
  secret: string;
  /** The cookie value. */
  value: string;
}

const PART = /^[a-z2-7]{24}$/;

export type RandomBytes = (length: number) => Uint8Array;

export const webRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

export function generateSessionToken(random: RandomBytes): SessionToken {
  const id = encodeBase32LowerCaseNoPadding(random(15));
  const secret = encodeBase32LowerCaseNoPadding(random(15));
  return { id, secret, value: `${id}.${secret}` };
}

/** The token in a cookie value, or undefined for anything that is not exactly our shape. */
export function parseSessionToken(value: string | undefined): SessionToken | undefined {
  if (!value || value.length !== 49) return undefined;
  const [id, secret, extra] = value.split('.');
  if (extra !== undefined || !id || !secret || !PART.test(id) || !PART.test(secret)) return undefined;
  return { id, secret, value };
}

export function hashSessionSecret(secret: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(secret)));
}

export function isSessionSecretValid(secret: string, storedHash: string): boolean {
  const encoder = new TextEncoder();
  return constantTimeEqual(encoder.encode(hashSessionSecret(secret)), encoder.encode(storedHash));
}

/** A random URL-safe string (state, nonce, lock owner, login binding). */
export function randomToken(random: RandomBytes, bytes = 32): string {
  return encodeBase64urlNoPadding(random(bytes));
}
