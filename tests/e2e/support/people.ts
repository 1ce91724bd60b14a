import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import { ROLES, type Region, type Role } from '../../../demo/people.ts';
import { groupDn, peopleDn, personDn } from '../../../stack/config/ldap/seed.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { adminDn, hashSsha } from '../../../stack/services/ldap.ts';
import { keycloakAdmin } from './keycloak-admin.ts';

/**
 * Temporary directory people for the browser tests. Shared demo people are never used: a first
 * sign-in enrols TOTP on the account, and an authenticator left on a demo person would break the
 * next run (and a person's demo login). Each person gets a random uid and password, lives in its
 * region's directory with LDAP groups = realm roles, and `remove()` deletes the Keycloak copy and
 * the directory entry.
 */
export interface E2ePerson {
  uid: string;
  password: string;
  region: Region;
  givenName: string;
  surname: string;
  /** What the app shows in its header (Keycloak's `name` claim: given name + surname). */
  displayName: string;
  email: string;
  roles: readonly Role[];
  /**
   * Puts the person back into their role groups if they fell out. Re-provisioning the shared
   * directories (another suite's `stack up`) rewrites the groups to the seed's member list, which
   * drops temporary people; call before a sign-in, whose token takes its roles from the groups.
   */
  ensureRoles(): Promise<void>;
  remove(): Promise<void>;
}

export interface PersonSpec {
  region: Region;
  givenName: string;
  surname: string;
  roles: readonly Role[];
  /** A readable prefix for the uid (ASCII). */
  label: string;
}

function directory(env: StackEnv, region: Region) {
  const prefix = region === 'ru' ? 'LDAP_RU' : 'LDAP_EU';
  const url = env[`${prefix}_URL`];
  const baseDn = env[`${prefix}_BASE_DN`];
  const password = env[`${prefix}_ADMIN_PASSWORD`];
  if (!url || !baseDn || !password) throw new Error(`e2e people: ${prefix}_URL, ${prefix}_BASE_DN and ${prefix}_ADMIN_PASSWORD must be set (loadStackEnv)`);
  return { url, bindDn: adminDn(baseDn), password };
}

async function withDirectory<T>(env: StackEnv, region: Region, work: (client: Client) => Promise<T>): Promise<T> {
  const { url, bindDn, password } = directory(env, region);
  const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
  try {
    await client.bind(bindDn, password);
    return await work(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

const STALE_AFTER_MS = 60 * 60 * 1000;

function parseGeneralizedTime(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(value);
  return match ? Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!) : Number.NaN;
}

/**
 * Removes e2e people left behind by a run that was killed before its clean-up (bun test kills a
 * file's processes when a test times out, hooks included). Only people older than an hour: a
 * concurrent run's people are never touched. Returns the uids removed.
 */
export async function sweepStaleE2ePeople(env: StackEnv, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const admin = await keycloakAdmin(env);
  for (const region of ['ru', 'eu'] as const) {
    const stale = await withDirectory(env, region, async (client) => {
      const { searchEntries } = await client.search(peopleDn(region), { scope: 'one', filter: '(uid=e2e.*)', attributes: ['uid', 'createTimestamp'] });
      return searchEntries
        .filter((entry) => now - parseGeneralizedTime(String(entry.createTimestamp)) > STALE_AFTER_MS)
        .map((entry) => ({ uid: String(entry.uid), dn: entry.dn }));
    });
    for (const { uid, dn } of stale) {
      await admin.deleteUserByUsername(env.KEYCLOAK_REALM!, uid);
      await withDirectory(env, region, async (client) => {
        for (const role of ROLES) {
          await client.modify(groupDn(region, role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) })).catch(() => undefined);
        }
        await client.del(dn).catch(() => undefined);
      });
      removed.push(uid);
    }
  }
  return removed;
}

export async function createE2ePerson(env: StackEnv, spec: PersonSpec): Promise<E2ePerson> {
  const uid = `e2e.${spec.label}.${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const email = `${uid}@${spec.region}.bionicpro.example`;
  const dn = personDn(spec.region, uid);
  const displayName = `${spec.givenName} ${spec.surname}`;

  await withDirectory(env, spec.region, async (client) => {
    await client.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid,
      cn: displayName,
      sn: spec.surname,
      givenName: spec.givenName,
      displayName,
      mail: email,
      userPassword: hashSsha(password),
    });
    for (const role of spec.roles) {
      await client.modify(groupDn(spec.region, role), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
    }
  });

  return {
    uid,
    password,
    region: spec.region,
    givenName: spec.givenName,
    surname: spec.surname,
    displayName,
    email,
    roles: spec.roles,
    async ensureRoles() {
      await withDirectory(env, spec.region, async (client) => {
        for (const role of spec.roles) {
          await client
            .modify(groupDn(spec.region, role), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }))
            .catch((error: unknown) => {
              // Already a member: nothing to do.
              if (!/already exists|TypeOrValueExists/i.test(String(error))) throw error;
            });
        }
      });
    },
    async remove() {
      const admin = await keycloakAdmin(env);
      await admin.deleteUserByUsername(env.KEYCLOAK_REALM!, uid);
      await withDirectory(env, spec.region, async (client) => {
        for (const role of spec.roles) {
          await client
            .modify(groupDn(spec.region, role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) }))
            .catch(() => undefined);
        }
        await client.del(dn).catch((error: unknown) => {
          if (!String(error).includes('No Such Object')) throw error;
        });
      });
    },
  };
}
