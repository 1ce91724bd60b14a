import { describe, expect, test } from 'bun:test';
import { createHmac, randomBytes } from 'node:crypto';
import { createOwnerRefs, describeOwnerRefKeyProblem, isOwnerRef, OWNER_REF_PATTERN } from '../../common/identity/owner-ref.ts';

// 32 bytes of 0x07, base64url: a fixed key, so the vectors below never change unless the scheme does.
const FIXED_KEY = Buffer.alloc(32, 7).toString('base64url');

describe('owner ref (keyed pseudonym of a username)', () => {
  test('stable vectors: the same key and username always give the same 32-character ref', async () => {
    const refs = await createOwnerRefs(FIXED_KEY);
    expect(await refs.of('ivan.petrov')).toBe('ncvjy4jxtohxag5lkvuw6rjqwfzssj5a');
    expect(await refs.of('anna.schmidt')).toBe('6qwimljcj4flax7b3hli4rlywsqe7w5n');
  });

  test('is HMAC-SHA-256 over a versioned label, first 160 bits in lower-case base32 (checked against node:crypto)', async () => {
    const key = randomBytes(40);
    const refs = await createOwnerRefs(key.toString('base64url'));
    const mac = createHmac('sha256', key).update('bionicpro/owner-ref/v1\nmaria.ivanova').digest().subarray(0, 20);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    let bits = 0;
    let value = 0;
    let expected = '';
    for (const byte of mac) {
      value = ((value << 8) | byte) & 0xffff;
      bits += 8;
      while (bits >= 5) {
        expected += alphabet[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    expect(await refs.of('maria.ivanova')).toBe(expected);
  });

  test('different keys give different refs for the same person', async () => {
    const a = await createOwnerRefs(randomBytes(32).toString('base64url'));
    const b = await createOwnerRefs(randomBytes(32).toString('base64url'));
    expect(await a.of('ivan.petrov')).not.toBe(await b.of('ivan.petrov'));
  });

  test('usernames are case-insensitive (LDAP uid, Keycloak lower-cases preferred_username)', async () => {
    const refs = await createOwnerRefs(FIXED_KEY);
    expect(await refs.of('Ivan.Petrov')).toBe(await refs.of('ivan.petrov'));
    expect(await refs.of('ivan.petrov')).not.toBe(await refs.of('ivan.petrova'));
  });

  test('a ref has a fixed format that is safe in S3 keys and URLs, and never contains the username', async () => {
    const refs = await createOwnerRefs(FIXED_KEY);
    for (const username of ['ivan.petrov', 'x'.repeat(64), 'user@example.test']) {
      const ref = await refs.of(username);
      expect(ref).toMatch(OWNER_REF_PATTERN);
      expect(isOwnerRef(ref)).toBe(true);
      expect(encodeURIComponent(ref)).toBe(ref);
      expect(ref.includes(username.toLowerCase())).toBe(false);
    }
    expect(isOwnerRef('ivan.petrov')).toBe(false);
    expect(isOwnerRef('NCVJY4JXTOHXAG5LKVUW6RJQWFZSSJ5A')).toBe(false);
    expect(isOwnerRef('ncvjy4jxtohxag5lkvuw6rjqwfzssj5')).toBe(false);
  });

  test('refuses short, empty or non-base64url keys with a reason', async () => {
    expect(describeOwnerRefKeyProblem(randomBytes(31).toString('base64url'))).toMatch(/at least 32 bytes/);
    expect(describeOwnerRefKeyProblem('')).toMatch(/at least 32 bytes/);
    expect(describeOwnerRefKeyProblem(`${randomBytes(32).toString('base64url')}!`)).toMatch(/base64url/);
    expect(describeOwnerRefKeyProblem(randomBytes(32).toString('base64url'))).toBeUndefined();
    await expect(createOwnerRefs(randomBytes(16).toString('base64url'))).rejects.toThrow(/OWNER_REF_KEY/);
  });

  test('refuses a username that is empty or too long to be an LDAP uid', async () => {
    const refs = await createOwnerRefs(FIXED_KEY);
    await expect(refs.of('')).rejects.toThrow(/username/);
    await expect(refs.of('x'.repeat(129))).rejects.toThrow(/username/);
  });
});
