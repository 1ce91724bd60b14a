/**
 * The LDAP seed of each regional directory, generated from demo/people.ts into
 * stack/config/ldap/seed-<region>.ldif (committed, so compose.yaml can mount the same file).
 * The files hold no secret: every userPassword is the placeholder ${DEMO_USER_PASSWORD_HASH},
 * filled with a salted hash of that person's own password (DEMO_PASSWORD_<UID>, demo/people.ts)
 * when stack/services/ldap.ts applies the seed (compose.yaml's init runs the same provisioning).
 *
 *   node stack/config/ldap/seed.ts        rewrite both LDIF files from demo/people.ts
 *   node stack/config/ldap/seed.ts --check  fail if a committed file differs from people.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEOPLE, REGIONS, ROLES, type Region } from '../../../demo/people.ts';

export const PASSWORD_PLACEHOLDER = '${DEMO_USER_PASSWORD_HASH}';

export const BASE_DN: Record<Region, string> = {
  ru: 'dc=ru,dc=bionicpro,dc=local',
  eu: 'dc=eu,dc=bionicpro,dc=local',
};

const ORGANIZATION: Record<Region, string> = { ru: 'BionicPRO Russia', eu: 'BionicPRO Europe' };

export function seedLdifPath(region: Region): string {
  return join(fileURLToPath(new URL('.', import.meta.url)), `seed-${region}.ldif`);
}

export function peopleDn(region: Region): string {
  return `ou=people,${BASE_DN[region]}`;
}

export function groupsDn(region: Region): string {
  return `ou=groups,${BASE_DN[region]}`;
}

export function personDn(region: Region, uid: string): string {
  return `uid=${uid},${peopleDn(region)}`;
}

export function groupDn(region: Region, role: string): string {
  return `cn=${role},${groupsDn(region)}`;
}

/** One LDIF record: its DN and attributes in file order (values as UTF-8 strings). */
export interface LdifEntry {
  dn: string;
  attributes: Record<string, string[]>;
}

/** The entries of one directory, in the order they must be added (parents first). */
export function seedEntries(region: Region): LdifEntry[] {
  const base = BASE_DN[region];
  const people = PEOPLE.filter((p) => p.region === region);
  const entries: LdifEntry[] = [
    {
      dn: base,
      attributes: { objectClass: ['top', 'dcObject', 'organization'], dc: [region], o: [ORGANIZATION[region]] },
    },
    { dn: peopleDn(region), attributes: { objectClass: ['top', 'organizationalUnit'], ou: ['people'] } },
    { dn: groupsDn(region), attributes: { objectClass: ['top', 'organizationalUnit'], ou: ['groups'] } },
  ];
  for (const person of people) {
    entries.push({
      dn: personDn(region, person.uid),
      attributes: {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid: [person.uid],
        cn: [person.displayName],
        sn: [person.surname],
        givenName: [person.givenName],
        displayName: [person.displayName],
        mail: [person.email],
        userPassword: [PASSWORD_PLACEHOLDER],
      },
    });
  }
  for (const role of ROLES) {
    const members = people.filter((p) => p.roles.includes(role)).map((p) => personDn(region, p.uid));
    // groupOfNames needs at least one member; a role nobody holds in a region has no group there.
    if (members.length === 0) continue;
    entries.push({
      dn: groupDn(region, role),
      attributes: { objectClass: ['top', 'groupOfNames'], cn: [role], member: members },
    });
  }
  return entries;
}

/** RFC 2849: values that are not plain ASCII (Cyrillic names) or start awkwardly go base64. */
function needsBase64(value: string): boolean {
  return /[^\x20-\x7e]/.test(value) || /^[ :<]/.test(value) || value.endsWith(' ');
}

export function renderLdif(entries: LdifEntry[], header: string): string {
  const blocks = entries.map((entry) => {
    const lines: string[] = [];
    const readable = entry.attributes.cn?.[0];
    if (readable && needsBase64(readable)) lines.push(`# ${readable}`);
    lines.push(`dn: ${entry.dn}`);
    for (const [name, values] of Object.entries(entry.attributes)) {
      for (const value of values) {
        lines.push(needsBase64(value) ? `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}` : `${name}: ${value}`);
      }
    }
    return lines.join('\n');
  });
  return `${header}version: 1\n\n${blocks.join('\n\n')}\n`;
}

export function renderSeedLdif(region: Region): string {
  const header = [
    `# Seed of the ${ORGANIZATION[region]} directory (${BASE_DN[region]}).`,
    '# GENERATED from demo/people.ts by `node stack/config/ldap/seed.ts`; do not edit by hand.',
    `# ${PASSWORD_PLACEHOLDER} is replaced by a salted hash of the person's own DEMO_PASSWORD_<UID> when applied.`,
    '',
  ].join('\n');
  return renderLdif(seedEntries(region), header);
}

/** Parses the LDIF subset this project writes: comments, folded lines, `:` and `::` values. */
export function parseLdif(text: string): LdifEntry[] {
  const unfolded: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith(' ') && unfolded.length > 0 && unfolded[unfolded.length - 1] !== '') {
      unfolded[unfolded.length - 1] += raw.slice(1);
    } else unfolded.push(raw);
  }
  const entries: LdifEntry[] = [];
  let current: LdifEntry | undefined;
  unfolded.forEach((line, index) => {
    if (line.startsWith('#')) return;
    if (line.trim() === '') {
      current = undefined;
      return;
    }
    const match = /^([A-Za-z][A-Za-z0-9;-]*)(::?)\s*(.*)$/.exec(line);
    if (!match) throw new Error(`LDIF line ${index + 1}: cannot parse "${line}"`);
    const [, name, separator, rawValue] = match as unknown as [string, string, string, string];
    const value = separator === '::' ? Buffer.from(rawValue, 'base64').toString('utf8') : rawValue;
    if (name === 'version' && !current) return;
    if (name === 'dn') {
      if (current) throw new Error(`LDIF line ${index + 1}: dn inside an entry; records are separated by blank lines`);
      current = { dn: value, attributes: {} };
      entries.push(current);
      return;
    }
    if (!current) throw new Error(`LDIF line ${index + 1}: attribute "${name}" before any dn`);
    (current.attributes[name] ??= []).push(value);
  });
  return entries;
}

export function readSeedLdif(region: Region): LdifEntry[] {
  return parseLdif(readFileSync(seedLdifPath(region), 'utf8'));
}

function main(): void {
  const check = process.argv.includes('--check');
  let stale = false;
  for (const region of REGIONS) {
    const path = seedLdifPath(region);
    const wanted = renderSeedLdif(region);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        /* missing counts as stale */
      }
      if (current !== wanted) {
        console.error(`${path} is out of date with demo/people.ts; run: node stack/config/ldap/seed.ts`);
        stale = true;
      }
    } else {
      writeFileSync(path, wanted);
      console.log(`wrote ${path}`);
    }
  }
  if (stale) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
