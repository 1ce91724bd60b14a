/**
 * The canonical demo people. Every seed follows this list: the two LDAP directories
 * (stack/config/ldap/seed-<region>.ldif is generated from it), Keycloak (which federates them)
 * and the CRM/telemetry demo-data generator. A person's stable key everywhere is `uid`, which
 * Keycloak exposes as `preferred_username`; uids are unique across both regions so the two LDAP
 * federations never compete for one username. Demo passwords are never here: each demo person
 * has their own, generated per machine into .stack/stack.env under demoPasswordVariable(uid), so
 * one person's password (an operator's, say) cannot sign in — and enrol TOTP — as an administrator.
 */

export const REGIONS = ['ru', 'eu'] as const;
export type Region = (typeof REGIONS)[number];

/** Realm roles in Keycloak and group names (cn) in both LDAP directories. */
export const ROLES = ['prothetic_user', 'user', 'administrator', 'crm_operator'] as const;
export type Role = (typeof ROLES)[number];

export interface Person {
  /** LDAP uid = Keycloak username = CRM customers.username = report user_id. ASCII, lower case. */
  uid: string;
  region: Region;
  givenName: string;
  surname: string;
  /** LDAP cn; for the Russian directory in Cyrillic, as people write their names there. */
  displayName: string;
  email: string;
  roles: readonly Role[];
}

function person(region: Region, uid: string, givenName: string, surname: string, roles: readonly Role[]): Person {
  return {
    uid,
    region,
    givenName,
    surname,
    displayName: `${givenName} ${surname}`,
    email: `${uid}@${region}.bionicpro.example`,
    roles,
  };
}

export const PEOPLE: readonly Person[] = [
  person('ru', 'ivan.petrov', 'Иван', 'Петров', ['prothetic_user']),
  person('ru', 'olga.smirnova', 'Ольга', 'Смирнова', ['prothetic_user']),
  person('ru', 'dmitry.kuznetsov', 'Дмитрий', 'Кузнецов', ['prothetic_user']),
  person('ru', 'anna.volkova', 'Анна', 'Волкова', ['user']),
  person('ru', 'sergey.sokolov', 'Сергей', 'Соколов', ['administrator']),
  // CRM operators: Keycloak gives them crm_operator and their directory's region (ru/eu).
  person('ru', 'maria.orlova', 'Мария', 'Орлова', ['crm_operator']),
  person('eu', 'lena.schmidt', 'Lena', 'Schmidt', ['prothetic_user']),
  person('eu', 'marco.rossi', 'Marco', 'Rossi', ['prothetic_user']),
  person('eu', 'sophie.martin', 'Sophie', 'Martin', ['prothetic_user']),
  person('eu', 'jan.kowalski', 'Jan', 'Kowalski', ['user']),
  person('eu', 'emma.jansen', 'Emma', 'Jansen', ['administrator']),
  person('eu', 'lucas.bernard', 'Lucas', 'Bernard', ['crm_operator']),
];

/** The same list under the lower-case name the stack's welcome text and generators import. */
export const people = PEOPLE;

export function peopleOf(region: Region): Person[] {
  return PEOPLE.filter((p) => p.region === region);
}

export function findPerson(uid: string): Person | undefined {
  return PEOPLE.find((p) => p.uid === uid);
}

/** The stack env variable holding a demo person's password: DEMO_PASSWORD_<UID>, e.g. DEMO_PASSWORD_IVAN_PETROV. */
export function demoPasswordVariable(uid: string): string {
  return `DEMO_PASSWORD_${uid.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** A demo person's password from the stack env; an error naming the variable when it is not set. */
export function demoPassword(env: Readonly<Record<string, string | undefined>>, uid: string): string {
  const name = demoPasswordVariable(uid);
  const value = env[name];
  if (!value) throw new Error(`${name} (${uid}'s demo password) is not set: run \`node stack/cli.ts env\` once to generate it`);
  return value;
}

/** The region (and so the LDAP directory) a demo person, or a demo uid, belongs to. */
export function regionOf(who: Person | string): Region {
  if (typeof who !== 'string') return who.region;
  const found = findPerson(who);
  if (!found) throw new Error(`"${who}" is not a demo person; known uids: ${PEOPLE.map((p) => p.uid).join(', ')}`);
  return found.region;
}

export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
