import { decodeBase64urlIgnorePadding, encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';

/**
 * The report owner's pseudonymous id (issue 11): a keyed hash of the username, so the mart, S3 keys,
 * CDN URLs, report bodies and logs can name a person's reports without naming the person. Without
 * the key nobody can go from a username to its ref (a plain hash could be reversed by hashing the
 * directory's uids), and the ref says nothing about the username.
 *
 * HMAC-SHA-256 on Web Crypto, so the same code runs on Node, Bun, Deno and workerd. The label in
 * front of the username separates this use of the key from any other (and lets a v2 coexist). The
 * first 160 bits in lower-case base32 make 32 characters of [a-z2-7]: fixed length (so no ref is a
 * prefix of another, which S3 prefix listings and purges rely on), safe in S3 keys and URLs
 * unescaped, and still far from any collision among a few million people.
 */

const LABEL = 'bionicpro/owner-ref/v1\n';
const REF_BYTES = 20;
export const OWNER_REF_KEY_MIN_BYTES = 32;
export const OWNER_REF_PATTERN = /^[a-z2-7]{32}$/;
/** Longest username accepted (as common/auth/principal.ts USERNAME_PATTERN). */
const USERNAME_MAX_LENGTH = 128;

export function isOwnerRef(value: string): boolean {
  return OWNER_REF_PATTERN.test(value);
}

function decodeKey(secret: string): Uint8Array | string {
  if (!/^[A-Za-z0-9_-]*=*$/.test(secret)) return 'must be base64url (A–Z a–z 0–9 - _)';
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64urlIgnorePadding(secret);
  } catch {
    return 'must be base64url (A–Z a–z 0–9 - _)';
  }
  if (bytes.length < OWNER_REF_KEY_MIN_BYTES) return `must hold at least ${OWNER_REF_KEY_MIN_BYTES} bytes of key material (base64url, ${Math.ceil((OWNER_REF_KEY_MIN_BYTES * 4) / 3)}+ characters); got ${bytes.length}`;
  return bytes;
}

/** Why the secret cannot be an OWNER_REF_KEY, or undefined if it can (for config schemas). */
export function describeOwnerRefKeyProblem(secret: string): string | undefined {
  const decoded = decodeKey(secret);
  return typeof decoded === 'string' ? decoded : undefined;
}

export interface OwnerRefs {
  /** The owner ref of a username (case-insensitive, as LDAP uids are). */
  of(username: string): Promise<string>;
}

/** Imports the key once; refuses a key that is not base64url of at least 32 bytes. */
export async function createOwnerRefs(secret: string): Promise<OwnerRefs> {
  const decoded = decodeKey(secret);
  if (typeof decoded === 'string') throw new Error(`OWNER_REF_KEY ${decoded}`);
  const key = await crypto.subtle.importKey('raw', new Uint8Array(decoded), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const encoder = new TextEncoder();
  return {
    async of(username) {
      if (username.length === 0 || username.length > USERNAME_MAX_LENGTH) throw new Error(`not a username: length ${username.length}`);
      const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(LABEL + username.toLowerCase()));
      return encodeBase32LowerCaseNoPadding(new Uint8Array(mac, 0, REF_BYTES));
    },
  };
}
