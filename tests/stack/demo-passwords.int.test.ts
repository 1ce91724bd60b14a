import { afterEach, describe, expect, test } from 'bun:test';
import { Client, InvalidCredentialsError } from 'ldapts';
import { demoPassword, demoPasswordVariable, PEOPLE, peopleOf, REGIONS, type Region } from '../../demo/people.ts';
import { personDn } from '../../stack/config/ldap/seed.ts';
import { loadStackEnv } from '../../tools/kit/env.ts';

/**
 * Issue 9: demo people used to share one password, administrators included, and the first
 * sign-in enrols TOTP — so anyone holding it could enrol their own authenticator on an
 * administrator. Each person now has their own generated password, and the real directories
 * (as `stack up` seeded them) accept each person's only.
 */
const env = loadStackEnv();
const URLS: Record<Region, string> = { ru: env.LDAP_RU_URL!, eu: env.LDAP_EU_URL! };

async function binds(region: Region, uid: string, password: string): Promise<boolean> {
  const client = new Client({ url: URLS[region], timeout: 5_000, connectTimeout: 2_000 });
  try {
    await client.bind(personDn(region, uid), password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => {});
  }
}

describe('demo passwords', () => {
  test('every demo person has their own generated password', () => {
    const passwords = PEOPLE.map((person) => demoPassword(env, person.uid));
    expect(new Set(passwords).size).toBe(PEOPLE.length);
    for (const password of passwords) expect(password.length).toBeGreaterThanOrEqual(24);
    expect(new Set(PEOPLE.map((person) => demoPasswordVariable(person.uid))).size).toBe(PEOPLE.length);
  });

  for (const region of REGIONS) {
    test(`${region}: each person binds with their own password and with no one else's (administrators included)`, async () => {
      const people = peopleOf(region);
      const administrator = people.find((person) => person.roles.includes('administrator'))!;
      expect(administrator).toBeDefined();
      for (const [index, person] of people.entries()) {
        expect(await binds(region, person.uid, demoPassword(env, person.uid))).toBe(true);
        const other = people[(index + 1) % people.length]!;
        expect(await binds(region, person.uid, demoPassword(env, other.uid))).toBe(false);
        // The case the issue names: a customer's password does not open an administrator's account.
        if (person !== administrator) expect(await binds(region, administrator.uid, demoPassword(env, person.uid))).toBe(false);
      }
    });
  }

  describe('a variable set in the environment wins over the generated one', () => {
    const name = demoPasswordVariable(PEOPLE[0]!.uid);
    const saved = process.env[name];
    afterEach(() => {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    });
    test(name, () => {
      process.env[name] = 'chosen-by-the-operator';
      expect(demoPassword(loadStackEnv(), PEOPLE[0]!.uid)).toBe('chosen-by-the-operator');
    });
  });
});
