import { Client } from 'ldapts';
import type postgres from 'postgres';
import { PEOPLE, REGIONS, type Region } from '../../../demo/people.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { readerDn } from '../../../stack/services/ldap.ts';
import type { PersonNeedles } from './matcher.ts';

/**
 * Each demo person's identifiers as the regional stores hold them: the directory entry (read through
 * Keycloak's reader account, as Keycloak sees it) and the CRM customer row, plus the spellings the demo
 * data uses. Whatever differs between them is searched as well.
 */
export async function readDemoNeedles(env: StackEnv, crm: postgres.Sql, extra: Record<string, Partial<Record<'name' | 'email' | 'phone', string[]>>> = {}): Promise<{ people: PersonNeedles[]; directoryEntries: number; crmRows: number }> {
  const byUid = new Map<string, { name: Set<string>; email: Set<string>; phone: Set<string>; parts: Map<string, readonly [string, string]> }>();
  const part = (given: string, surname: string) => [`${given}\n${surname}`, [given, surname] as const] as const;
  for (const person of PEOPLE) {
    byUid.set(person.uid, {
      name: new Set([person.displayName, `${person.givenName} ${person.surname}`, `${person.surname} ${person.givenName}`]),
      email: new Set([person.email]),
      phone: new Set(),
      parts: new Map([part(person.givenName, person.surname)]),
    });
  }
  let directoryEntries = 0;
  for (const region of REGIONS) {
    for (const entry of await readDirectory(env, region)) {
      const sets = byUid.get(entry.uid);
      if (!sets) continue;
      directoryEntries++;
      for (const name of [entry.cn, entry.displayName, entry.givenName && entry.sn ? `${entry.givenName} ${entry.sn}` : undefined]) if (name) sets.name.add(name);
      if (entry.givenName && entry.sn) sets.parts.set(...part(entry.givenName, entry.sn));
      if (entry.mail) sets.email.add(entry.mail);
      for (const phone of entry.phones) sets.phone.add(phone);
    }
  }
  const rows = await crm<{ username: string; full_name: string; email: string; phone: string | null }[]>`
    select username, full_name, email, phone from crm.customers where username in ${crm([...byUid.keys()])}`;
  for (const row of rows) {
    const sets = byUid.get(row.username)!;
    sets.name.add(row.full_name);
    sets.email.add(row.email);
    if (row.phone) sets.phone.add(row.phone);
  }
  for (const [uid, more] of Object.entries(extra)) {
    const sets = byUid.get(uid);
    if (!sets) throw new Error(`pii-scan: ${uid} is not a demo person`);
    for (const kind of ['name', 'email', 'phone'] as const) for (const value of more[kind] ?? []) sets[kind].add(value);
  }
  const people = [...byUid].map(([uid, sets]) => ({
    uid,
    values: { name: [...sets.name], email: [...sets.email], phone: [...sets.phone], username: [uid] },
    nameParts: [...sets.parts.values()],
  }));
  return { people, directoryEntries, crmRows: rows.length };
}

interface DirectoryEntry {
  uid: string;
  cn?: string;
  displayName?: string;
  givenName?: string;
  sn?: string;
  mail?: string;
  phones: string[];
}

async function readDirectory(env: StackEnv, region: Region): Promise<DirectoryEntry[]> {
  const url = region === 'ru' ? env.LDAP_RU_URL! : env.LDAP_EU_URL!;
  const baseDn = region === 'ru' ? env.LDAP_RU_BASE_DN! : env.LDAP_EU_BASE_DN!;
  const password = region === 'ru' ? env.LDAP_RU_READER_PASSWORD! : env.LDAP_EU_READER_PASSWORD!;
  const client = new Client({ url, timeout: 5_000, connectTimeout: 2_000 });
  try {
    await client.bind(readerDn(baseDn), password);
    const { searchEntries } = await client.search(`ou=people,${baseDn}`, {
      scope: 'one',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'cn', 'displayName', 'givenName', 'sn', 'mail', 'telephoneNumber', 'mobile'],
    });
    const first = (value: unknown) => (Array.isArray(value) ? value[0] : value) as string | undefined;
    const all = (value: unknown) => (value === undefined ? [] : Array.isArray(value) ? value : [value]).map(String);
    return searchEntries.map((e) => ({
      uid: String(first(e.uid)),
      cn: first(e.cn),
      displayName: first(e.displayName),
      givenName: first(e.givenName),
      sn: first(e.sn),
      mail: first(e.mail),
      phones: [...all(e.telephoneNumber), ...all(e.mobile)],
    }));
  } finally {
    await client.unbind().catch(() => {});
  }
}
