import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';

/**
 * Encrypts the IdP tokens a session holds (AES-256-GCM, Web Crypto). Each configured secret yields
 * a key by HKDF and a key id; the first key encrypts, every key decrypts, so a key rotates by
 * prepending a new secret. The session id is the additional data: a sealed box copied into another
 * session record does not open.
 *
 * Sealed form: `v1.<kid>.<iv>.<ciphertext+tag>` (base64url).
 */
export interface TokenVault {
  seal(plaintext: string, sessionId: string): Promise<string>;
  /** Throws VaultError when the box is malformed, its key is gone or it was tampered with. */
  open(sealed: string, sessionId: string): Promise<string>;
  /** The key id new boxes are sealed with. */
  currentKeyId: string;
}

export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

interface VaultKey {
  id: string;
  key: CryptoKey;
}

const encoder = new TextEncoder();
const HKDF_SALT = encoder.encode('bionicpro/bff/session-tokens/v1');

async function deriveKey(secret: string): Promise<VaultKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey', 'deriveBits']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: encoder.encode('aes-256-gcm') },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  // The key id is derived too (never the secret's own hash), so it reveals nothing about it.
  const idBits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: encoder.encode('key-id') }, material, 48);
  return { id: encodeBase64urlNoPadding(new Uint8Array(idBits)), key };
}

export async function createTokenVault(secrets: readonly string[]): Promise<TokenVault> {
  if (secrets.length === 0) throw new Error('token vault: at least one secret is required');
  const keys = await Promise.all(secrets.map(deriveKey));
  const current = keys[0]!;
  const byId = new Map(keys.map((k) => [k.id, k]));
  if (byId.size !== keys.length) throw new Error('token vault: two configured secrets are the same');

  return {
    currentKeyId: current.id,
    async seal(plaintext, sessionId) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(sessionId) }, current.key, encoder.encode(plaintext));
      return `v1.${current.id}.${encodeBase64urlNoPadding(iv)}.${encodeBase64urlNoPadding(new Uint8Array(ciphertext))}`;
    },
    async open(sealed, sessionId) {
      const [version, kid, ivText, bodyText, extra] = sealed.split('.');
      if (version !== 'v1' || !kid || !ivText || !bodyText || extra !== undefined) throw new VaultError('sealed tokens are malformed');
      const entry = byId.get(kid);
      if (!entry) throw new VaultError('sealed with a key that is no longer configured');
      try {
        const iv = decodeBase64urlIgnorePadding(ivText);
        const body = decodeBase64urlIgnorePadding(bodyText);
        const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: encoder.encode(sessionId) }, entry.key, body as BufferSource);
        return new TextDecoder().decode(plain);
      } catch {
        throw new VaultError('sealed tokens do not authenticate');
      }
    },
  };
}
