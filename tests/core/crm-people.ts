import { randomUUID } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import type { Region } from '../../demo/people.ts';
import { groupDn, personDn } from '../../stack/config/ldap/seed.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import { connectAdmin } from '../../stack/services/keycloak.ts';
import { adminDn, hashSsha } from '../../stack/services/ldap.ts';
import { fetchUserTokens, forgetTotpSecret } from '../helpers/keycloak-login.ts';

/**
 * Temporary people of either directory for the CRM operator tests, with realm roles given the way
 * the realm maps them: membership of the LDAP group of the same name. tests/helpers/directory-person.ts
 * covers the Russian directory and the seeded groups only; an operator needs the European one too,
 * and the group cn=crm_operator, which no demo person holds yet, so it is created here when
 * missing (and removed again when its last test member goes).
 */

export interface OperatorTestPerson {
  uid: string;
  region: Region;
  /** For a real sign-in (the BFF test); random per person. */
  password: string;
  accessToken(): Promise<string>;
  remove(): Promise<void>;
}

async function connectDirectory(env: StackEnv, region: Region): Promise<Client> {
  const url = region === 'ru' ? env.LDAP_RU_URL : env.LDAP_EU_URL;
  const baseDn = region === 'ru' ? env.LDAP_RU_BASE_DN : env.LDAP_EU_BASE_DN;
  const password = region === 'ru' ? env.LDAP_RU_ADMIN_PASSWORD : env.LDAP_EU_ADMIN_PASSWORD;
  const client = new Client({ url: url!, timeout: 5_000 });
  await client.bind(adminDn(baseDn!), password!);
  return client;
}

function ldapCode(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

const NO_SUCH_OBJECT = 32;
const OBJECT_CLASS_VIOLATION = 65;

async function joinGroup(ldap: Client, region: Region, role: string, dn: string): Promise<void> {
  try {
    await ldap.modify(groupDn(region, role), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
  } catch (error) {
    if (ldapCode(error) !== NO_SUCH_OBJECT) throw error;
    await ldap.add(groupDn(region, role), { objectClass: ['top', 'groupOfNames'], cn: role, member: dn });
  }
}

async function leaveGroup(ldap: Client, region: Region, role: string, dn: string): Promise<void> {
  try {
    await ldap.modify(groupDn(region, role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) }));
  } catch (error) {
    // groupOfNames needs a member: the last one leaves by deleting the group.
    if (ldapCode(error) === OBJECT_CLASS_VIOLATION) await ldap.del(groupDn(region, role));
    else if (ldapCode(error) !== NO_SUCH_OBJECT) throw error;
  }
}

export async function addRegionalPerson(env: StackEnv, region: Region, roles: string[], label = 'crm'): Promise<OperatorTestPerson> {
  const uid = `${label}.test.${randomUUID().slice(0, 8)}`;
  const dn = personDn(region, uid);
  const password = `pw-${randomUUID()}`;
  const ldap = await connectDirectory(env, region);
  try {
    await ldap.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid,
      cn: 'Crm Test',
      sn: 'Test',
      givenName: 'Crm',
      mail: `${uid}@${region}.bionicpro.example`,
      userPassword: hashSsha(password),
    });
    for (const role of roles) await joinGroup(ldap, region, role, dn);
  } finally {
    await ldap.unbind();
  }

  let tokens: { access_token: string; expiresAtMs: number } | undefined;
  return {
    uid,
    region,
    password,
    async accessToken() {
      if (!tokens || tokens.expiresAtMs - Date.now() < 60_000) {
        const body = await fetchUserTokens({ env, username: uid, password });
        tokens = { access_token: body.access_token, expiresAtMs: Date.now() + body.expires_in * 1000 };
      }
      return tokens.access_token;
    },
    async remove() {
      const admin = await connectAdmin(env);
      const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(uid)}&exact=true`);
      if (user) await admin.send('DELETE', `/users/${user.id}`);
      const cleaner = await connectDirectory(env, region);
      try {
        for (const role of roles) await leaveGroup(cleaner, region, role, dn);
        await cleaner.del(dn);
      } finally {
        await cleaner.unbind();
      }
      await forgetTotpSecret(uid);
    },
  };
}
