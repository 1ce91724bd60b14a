import { randomUUID } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import type { Role } from '../../demo/people.ts';
import { groupDn, personDn } from '../../stack/config/ldap/seed.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import { connectAdmin } from '../../stack/services/keycloak.ts';
import { adminDn, hashSsha } from '../../stack/services/ldap.ts';

export interface DirectoryPerson {
  uid: string;
  dn: string;
  password: string;
  /** Deletes the person from Keycloak (its imported copy) and from the directory, groups included. */
  remove(): Promise<void>;
}

/**
 * A temporary person in the Russian directory, member of the role groups (= realm roles), with a
 * random uid (`<prefix>.test.<8 hex>`) and password. Keycloak imports them at their first login.
 */
export async function addDirectoryPerson(
  env: StackEnv,
  options: { uidPrefix: string; roles: Role[]; givenName?: string; surname?: string },
): Promise<DirectoryPerson> {
  const uid = `${options.uidPrefix}.test.${randomUUID().slice(0, 8)}`;
  const dn = personDn('ru', uid);
  const password = `pw-${randomUUID()}`;
  const givenName = options.givenName ?? 'Test';
  const surname = options.surname ?? 'Person';
  const connect = async () => {
    const client = new Client({ url: env.LDAP_RU_URL!, timeout: 5_000 });
    await client.bind(adminDn(env.LDAP_RU_BASE_DN!), env.LDAP_RU_ADMIN_PASSWORD!);
    return client;
  };
  const ldap = await connect();
  try {
    await ldap.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid,
      cn: `${givenName} ${surname}`,
      sn: surname,
      givenName,
      mail: `${uid}@ru.bionicpro.example`,
      userPassword: hashSsha(password),
    });
    for (const role of options.roles) {
      await ldap.modify(groupDn('ru', role), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
    }
  } finally {
    await ldap.unbind();
  }
  return {
    uid,
    dn,
    password,
    async remove() {
      const admin = await connectAdmin(env);
      const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(uid)}&exact=true`);
      if (user) await admin.send('DELETE', `/users/${user.id}`);
      const cleaner = await connect();
      try {
        for (const role of options.roles) {
          await cleaner.modify(groupDn('ru', role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) })).catch(() => undefined);
        }
        await cleaner.del(dn);
      } finally {
        await cleaner.unbind();
      }
    },
  };
}
