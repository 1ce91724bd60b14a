import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, InsufficientAccessError, InvalidCredentialsError, NoSuchObjectError } from 'ldapts';
import { PEOPLE, REGIONS, ROLES, demoPassword, peopleOf, regionOf, type Region } from '../../demo/people.ts';
import {
  BASE_DN,
  PASSWORD_PLACEHOLDER,
  groupDn,
  groupsDn,
  parseLdif,
  peopleDn,
  personDn,
  readSeedLdif,
  renderSeedLdif,
  seedEntries,
  seedLdifPath,
  type LdifEntry,
} from '../../stack/config/ldap/seed.ts';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { adminDn, applySeed, hashSsha, readerDn, verifySsha } from '../../stack/services/ldap.ts';

// Runs against the two directories of the stack (`node stack/cli.ts up ldap-ru ldap-eu`).
const env = loadStackEnv();
const DIRECTORIES: Record<Region, { url: string; baseDn: string; adminPassword: string; readerPassword: string }> = {
  ru: { url: env.LDAP_RU_URL!, baseDn: env.LDAP_RU_BASE_DN!, adminPassword: env.LDAP_RU_ADMIN_PASSWORD!, readerPassword: env.LDAP_RU_READER_PASSWORD! },
  eu: { url: env.LDAP_EU_URL!, baseDn: env.LDAP_EU_BASE_DN!, adminPassword: env.LDAP_EU_ADMIN_PASSWORD!, readerPassword: env.LDAP_EU_READER_PASSWORD! },
};
/** Each demo person's own password (demo/people.ts: generated per machine, one per person). */
const passwordOf = (uid: string) => demoPassword(env, uid);
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function withClient<T>(region: Region, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: DIRECTORIES[region].url, timeout: 5_000, connectTimeout: 2_000 });
  try {
    return await use(client);
  } finally {
    await client.unbind().catch(() => {});
  }
}

async function bindAsAdmin(client: Client, region: Region): Promise<void> {
  await client.bind(adminDn(DIRECTORIES[region].baseDn), DIRECTORIES[region].adminPassword);
}

function memberChange(operation: 'add' | 'delete', dn: string): Change {
  return new Change({ operation, modification: new Attribute({ type: 'member', values: [dn] }) });
}

describe('seed LDIF files', () => {
  test.each([...REGIONS])('seed-%s.ldif is exactly what demo/people.ts generates', (region) => {
    expect(readFileSync(seedLdifPath(region), 'utf8')).toBe(renderSeedLdif(region));
    expect(readSeedLdif(region)).toEqual(seedEntries(region));
  });

  test.each([...REGIONS])('seed-%s.ldif holds every person of its region with their roles, and nobody else', (region) => {
    const entries = readSeedLdif(region);
    const people = entries.filter((e) => e.attributes.objectClass?.includes('inetOrgPerson'));
    expect(people.map((e) => e.attributes.uid?.[0]).sort()).toEqual(peopleOf(region).map((p) => p.uid).sort());
    for (const person of peopleOf(region)) {
      const entry = people.find((e) => e.attributes.uid?.[0] === person.uid)!;
      expect(entry.dn).toBe(personDn(region, person.uid));
      expect(entry.attributes.givenName).toEqual([person.givenName]);
      expect(entry.attributes.sn).toEqual([person.surname]);
      expect(entry.attributes.mail).toEqual([person.email]);
      expect(entry.attributes.userPassword).toEqual([PASSWORD_PLACEHOLDER]);
      const groups = entries.filter((e) => e.attributes.member?.includes(entry.dn)).map((e) => e.attributes.cn?.[0]);
      expect(groups.sort()).toEqual([...person.roles].sort());
    }
  });

  test('demo people: the required mix per region, unique uids, region helper agrees', () => {
    for (const region of REGIONS) {
      const people = peopleOf(region);
      expect(people.filter((p) => p.roles.includes('prothetic_user')).length).toBeGreaterThanOrEqual(3);
      expect(people.filter((p) => p.roles.includes('user')).length).toBeGreaterThanOrEqual(1);
      expect(people.filter((p) => p.roles.includes('administrator')).length).toBeGreaterThanOrEqual(1);
    }
    expect(new Set(PEOPLE.map((p) => p.uid)).size).toBe(PEOPLE.length);
    for (const person of PEOPLE) {
      expect(person.uid).toMatch(/^[a-z][a-z0-9._-]*$/);
      expect(regionOf(person.uid)).toBe(person.region);
      expect(person.roles.every((r) => (ROLES as readonly string[]).includes(r))).toBe(true);
    }
    expect(() => regionOf('nobody.here')).toThrow(/not a demo person/);
  });

  test('the LDIF parser decodes base64 values and folded lines, and rejects garbage', () => {
    const parsed = parseLdif('version: 1\n\n# comment\ndn: cn=x,dc=t\ncn:: 0JjQstCw0L0=\ndescription: a lo\n ng line\n');
    expect(parsed).toEqual([{ dn: 'cn=x,dc=t', attributes: { cn: ['Иван'], description: ['a long line'] } }]);
    expect(() => parseLdif('cn: orphan\n')).toThrow(/before any dn/);
    expect(() => parseLdif('dn: cn=x\n!!!\n')).toThrow(/cannot parse/);
  });

  test('SSHA hashes verify only the right password', () => {
    const hashed = hashSsha('correct horse');
    expect(hashed).toStartWith('{SSHA}');
    expect(verifySsha('correct horse', hashed)).toBe(true);
    expect(verifySsha('wrong horse', hashed)).toBe(false);
    expect(verifySsha('correct horse', '{SSHA}AAAA')).toBe(false);
  });
});

describe.each([...REGIONS])('directory %s', (region) => {
  const dir = DIRECTORIES[region];
  const people = peopleOf(region);

  test('serves its own suffix', () => {
    expect(dir.baseDn).toBe(BASE_DN[region]);
  });

  test('every demo person binds with their own password and finds their own role groups', async () => {
    for (const person of people) {
      const dn = personDn(region, person.uid);
      await withClient(region, async (client) => {
        await client.bind(dn, passwordOf(person.uid));
        const { searchEntries } = await client.search(groupsDn(region), {
          scope: 'one',
          filter: `(&(objectClass=groupOfNames)(member=${dn}))`,
          attributes: ['cn'],
        });
        expect(searchEntries.map((e) => String(e.cn)).sort()).toEqual([...person.roles].sort());
        const { searchEntries: self } = await client.search(dn, { scope: 'base', attributes: ['uid', 'mail', 'givenName', 'sn'] });
        expect(self[0]).toMatchObject({ uid: person.uid, mail: person.email, givenName: person.givenName, sn: person.surname });
      });
    }
  });

  test('a wrong password is refused', async () => {
    const dn = personDn(region, people[0]!.uid);
    await withClient(region, async (client) => {
      await expect(client.bind(dn, `${passwordOf(people[0]!.uid)}-wrong`)).rejects.toBeInstanceOf(InvalidCredentialsError);
      await expect(client.bind(adminDn(dir.baseDn), 'not-the-admin-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    });
  });

  test('keeps personal data regional: people of the other region are not here', async () => {
    const other = PEOPLE.find((p) => p.region !== region)!;
    await withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      const { searchEntries } = await client.search(dir.baseDn, { scope: 'sub', filter: `(uid=${other.uid})` });
      expect(searchEntries).toHaveLength(0);
    });
  });

  test('anonymous and signed-in people cannot list other people', async () => {
    const [first, second] = people;
    await withClient(region, async (client) => {
      // An anonymous search sees neither entries nor that the subtree exists.
      await expect(client.search(peopleDn(region), { scope: 'one', filter: '(uid=*)' })).rejects.toBeInstanceOf(NoSuchObjectError);
      await client.bind(personDn(region, first!.uid), passwordOf(first!.uid));
      await expect(client.search(personDn(region, second!.uid), { scope: 'base' })).rejects.toBeInstanceOf(NoSuchObjectError);
    });
  });

  /** A temporary person with a known password, removed after the file (so a failing test never touches demo people). */
  async function addTemporaryPerson(password: string): Promise<string> {
    const uid = `test.self.${randomUUID().slice(0, 8)}`;
    const dn = personDn(region, uid);
    await withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.add(dn, {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid,
        cn: 'Self Writer',
        sn: 'Writer',
        mail: `${uid}@${region}.bionicpro.example`,
        userPassword: hashSsha(password),
      });
    });
    cleanups.push(() => withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.del(dn);
    }));
    return dn;
  }

  test('the read-only bind account searches people and groups, but sees no password and writes nothing', async () => {
    const victim = personDn(region, people[0]!.uid);
    await withClient(region, async (client) => {
      await client.bind(readerDn(dir.baseDn), dir.readerPassword);
      const { searchEntries } = await client.search(peopleDn(region), {
        scope: 'one',
        filter: '(objectClass=inetOrgPerson)',
        attributes: ['uid', 'mail', 'entryUUID', 'modifyTimestamp', 'userPassword'],
      });
      const uids = searchEntries.map((e) => String(e.uid));
      for (const person of people) expect(uids).toContain(person.uid);
      for (const entry of searchEntries) {
        // Keycloak's stable id for an imported person.
        expect(String(entry.entryUUID)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect([entry.userPassword ?? []].flat()).toEqual([]);
      }
      const { searchEntries: groups } = await client.search(groupsDn(region), { scope: 'one', filter: '(objectClass=groupOfNames)', attributes: ['cn', 'member'] });
      expect(groups.length).toBeGreaterThan(0);

      await expect(client.modify(victim, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['evil@example.test'] }) }))).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.modify(victim, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [hashSsha('taken-over')] }) }))).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.modify(groupDn(region, 'administrator'), memberChange('add', readerDn(dir.baseDn)))).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.add(personDn(region, `test.forged.${randomUUID().slice(0, 8)}`), {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: 'forged', cn: 'Forged', sn: 'Forged',
      })).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.del(victim)).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.modify(readerDn(dir.baseDn), new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [hashSsha('mine')] }) }))).rejects.toBeInstanceOf(InsufficientAccessError);
    });
    await withClient(region, async (client) => {
      await expect(client.bind(readerDn(dir.baseDn), `${dir.readerPassword}-wrong`)).rejects.toBeInstanceOf(InvalidCredentialsError);
    });
  });

  test('a person bound as themselves cannot change their userPassword or any other attribute', async () => {
    const password = `self-${randomUUID()}`;
    const dn = await addTemporaryPerson(password);
    await withClient(region, async (client) => {
      await client.bind(dn, password);
      await expect(client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [hashSsha('chosen-by-me')] }) }))).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['me@elsewhere.test'] }) }))).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(client.modify(groupDn(region, 'administrator'), memberChange('add', dn))).rejects.toBeInstanceOf(InsufficientAccessError);
    });
    // Still the old password, and the directory's admin can change it.
    await withClient(region, async (client) => {
      await client.bind(dn, password);
    });
  });

  /** A temporary person the seed does not know, removed (entry and group memberships) after the file. */
  async function addForeignPerson(groups: string[]): Promise<string> {
    const uid = `test.foreign.${randomUUID().slice(0, 8)}`;
    const dn = personDn(region, uid);
    await withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn: 'Foreign Person', sn: 'Person' });
      for (const group of groups) await client.modify(group, memberChange('add', dn));
    });
    cleanups.push(() => withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      for (const group of groups) await client.modify(group, memberChange('delete', dn)).catch(() => {});
      await client.del(dn);
    }));
    return dn;
  }

  async function membersOf(group: string): Promise<string[]> {
    return withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      const { searchEntries } = await client.search(group, { scope: 'base', attributes: ['member'] });
      return [searchEntries[0]?.member ?? []].flat().map(String).sort();
    });
  }

  test('a second seed run changes nothing, even with a person the seed does not know in a role group', async () => {
    const group = groupDn(region, ROLES.find((role) => people.some((p) => p.roles.includes(role)))!);
    const foreign = await addForeignPerson([group]);
    const seed = () => applySeed(`test-${region}`, dir.url, dir.baseDn, dir.adminPassword, readSeedLdif(region), passwordOf);
    await seed();
    expect(await seed()).toEqual({ added: 0, updated: 0 });
    // Seeding (as `stack up` does) must not strip members other people added.
    expect(await membersOf(group)).toContain(foreign);
  });

  test('seeding re-adds its own group members and keeps members it does not know (temporary group)', async () => {
    const uid = `test.member.${randomUUID().slice(0, 8)}`;
    const memberDn = personDn(region, uid);
    const group = `cn=test-${randomUUID().slice(0, 8)},${groupsDn(region)}`;
    cleanups.push(() => withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.del(group).catch(() => {});
      await client.del(memberDn);
    }));
    const entries: LdifEntry[] = [
      { dn: memberDn, attributes: { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: [uid], cn: ['Seed Member'], sn: ['Member'] } },
      { dn: group, attributes: { objectClass: ['top', 'groupOfNames'], cn: [group.slice(3, group.indexOf(','))], member: [memberDn] } },
    ];
    const seed = () => applySeed(`test-${region}`, dir.url, dir.baseDn, dir.adminPassword, entries, passwordOf);
    expect(await seed()).toEqual({ added: 2, updated: 0 });
    const foreign = await addForeignPerson([group]);
    expect(await seed()).toEqual({ added: 0, updated: 0 });
    expect(await membersOf(group)).toEqual([memberDn, foreign].sort());
    // The seed's own member removed by hand comes back; the foreign one stays.
    await withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.modify(group, memberChange('delete', memberDn));
    });
    expect(await membersOf(group)).toEqual([foreign]);
    expect(await seed()).toEqual({ added: 0, updated: 1 });
    expect(await membersOf(group)).toEqual([memberDn, foreign].sort());
    expect(await seed()).toEqual({ added: 0, updated: 0 });
  });

  test('seeding adds, corrects and re-hashes its own entries (temporary person, removed afterwards)', async () => {
    const uid = `test.${randomUUID().slice(0, 8)}`;
    const dn = personDn(region, uid);
    cleanups.push(() => withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      await client.del(dn);
    }));
    const entry: LdifEntry = {
      dn,
      attributes: {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid: [uid],
        cn: ['Тест Временный'],
        sn: ['Временный'],
        mail: [`${uid}@${region}.bionicpro.example`],
        userPassword: [PASSWORD_PLACEHOLDER],
      },
    };
    const firstPassword = `first-${randomUUID()}`;
    const seed = (password: string, e: LdifEntry) => applySeed(`test-${region}`, dir.url, dir.baseDn, dir.adminPassword, [e], password);
    expect(await seed(firstPassword, entry)).toEqual({ added: 1, updated: 0 });
    expect(await seed(firstPassword, entry)).toEqual({ added: 0, updated: 0 });
    const renamed = { ...entry, attributes: { ...entry.attributes, sn: ['Постоянный'] } };
    expect(await seed(firstPassword, renamed)).toEqual({ added: 0, updated: 1 });
    const newPassword = `new-${randomUUID()}`;
    expect(await seed(newPassword, renamed)).toEqual({ added: 0, updated: 1 });
    await withClient(region, async (client) => {
      await expect(client.bind(dn, firstPassword)).rejects.toBeInstanceOf(InvalidCredentialsError);
      await client.bind(dn, newPassword);
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['sn', 'cn'] });
      expect(searchEntries[0]).toMatchObject({ sn: 'Постоянный', cn: 'Тест Временный' });
    });
  });

  test('the role groups exist and have members only from this directory', async () => {
    await withClient(region, async (client) => {
      await bindAsAdmin(client, region);
      for (const role of ROLES) {
        const { searchEntries } = await client.search(groupDn(region, role), { scope: 'base', attributes: ['member'] });
        const members = [searchEntries[0]?.member ?? []].flat().map(String);
        expect(members.length).toBeGreaterThan(0);
        expect(members.every((m) => m.endsWith(`,${peopleDn(region)}`))).toBe(true);
      }
    });
  });
});
