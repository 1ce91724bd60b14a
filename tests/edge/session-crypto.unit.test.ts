import { describe, expect, test } from 'bun:test';
import { generateSessionToken, hashSessionSecret, isSessionSecretValid, parseSessionToken, webRandomBytes } from '../../edge/bff/session/session-token.ts';
import { createTokenVault, VaultError } from '../../edge/bff/session/token-vault.ts';

describe('session tokens', () => {
  test('id and secret are 120-bit base32, the cookie value round-trips', () => {
    const token = generateSessionToken(webRandomBytes);
    expect(token.value).toMatch(/^[a-z2-7]{24}\.[a-z2-7]{24}$/);
    expect(parseSessionToken(token.value)).toEqual(token);
    expect(generateSessionToken(webRandomBytes).value).not.toBe(token.value);
  });

  test('anything not exactly our shape is no token', () => {
    const { value } = generateSessionToken(webRandomBytes);
    for (const bad of [undefined, '', value.toUpperCase(), `${value}.x`, value.replace('.', ''), `${value.slice(0, 24)}.${'1'.repeat(24)}`, ` ${value}`]) {
      expect(parseSessionToken(bad)).toBeUndefined();
    }
  });

  test('only the matching secret verifies against the stored hash', () => {
    const token = generateSessionToken(webRandomBytes);
    const hash = hashSessionSecret(token.secret);
    expect(hash).not.toContain(token.secret);
    expect(isSessionSecretValid(token.secret, hash)).toBe(true);
    expect(isSessionSecretValid(generateSessionToken(webRandomBytes).secret, hash)).toBe(false);
  });
});

describe('token vault (AES-256-GCM, key ids, rotation)', () => {
  const tokens = JSON.stringify({ accessToken: 'eyJ.a.b', refreshToken: 'eyJ.r.t', idToken: null });

  test('seals and opens; ciphertexts differ every time and name the key', async () => {
    const vault = await createTokenVault(['first-secret-0123456789']);
    const a = await vault.seal(tokens, 'session-1');
    const b = await vault.seal(tokens, 'session-1');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).toBe(vault.currentKeyId);
    expect(a).not.toContain('eyJ');
    expect(await vault.open(a, 'session-1')).toBe(tokens);
  });

  test('a box moved to another session, or tampered with, does not open', async () => {
    const vault = await createTokenVault(['first-secret-0123456789']);
    const sealed = await vault.seal(tokens, 'session-1');
    await expect(vault.open(sealed, 'session-2')).rejects.toThrow(VaultError);
    const parts = sealed.split('.');
    const body = parts[3]!;
    parts[3] = (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
    await expect(vault.open(parts.join('.'), 'session-1')).rejects.toThrow(VaultError);
    await expect(vault.open('v2.x.y.z', 'session-1')).rejects.toThrow(VaultError);
  });

  test('rotation: the new first key encrypts, the old one still decrypts until it is dropped', async () => {
    const old = await createTokenVault(['old-secret-0123456789']);
    const sealedByOld = await old.seal(tokens, 's');
    const rotated = await createTokenVault(['new-secret-0123456789', 'old-secret-0123456789']);
    expect(rotated.currentKeyId).not.toBe(old.currentKeyId);
    expect(await rotated.open(sealedByOld, 's')).toBe(tokens);
    expect((await rotated.seal(tokens, 's')).split('.')[1]).toBe(rotated.currentKeyId);
    const retired = await createTokenVault(['new-secret-0123456789']);
    await expect(retired.open(sealedByOld, 's')).rejects.toThrow('no longer configured');
  });

  test('configuration mistakes fail at start', async () => {
    await expect(createTokenVault([])).rejects.toThrow();
    await expect(createTokenVault(['same-secret-0123456789', 'same-secret-0123456789'])).rejects.toThrow('same');
  });
});
