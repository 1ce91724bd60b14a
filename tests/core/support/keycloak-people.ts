import { randomUUID } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import type { Role } from '../../../demo/people.ts';
import { groupDn, personDn } from '../../../stack/config/ldap/seed.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { connectAdmin, realmIssuer } from '../../../stack/services/keycloak.ts';
import { adminDn, hashSsha } from '../../../stack/services/ldap.ts';
import { fetchUserTokens, forgetTotpSecret } from '../../helpers/keycloak-login.ts';

/**
 * Real people for core's tests: a temporary entry in the Russian directory (with LDAP groups =
 * realm roles), signed in through Keycloak's own HTML forms exactly as a browser would —
 * password, TOTP enrolment, authorization code with PKCE (tests/helpers/keycloak-login.ts) — so
 * the access token is a genuine reports-bff token. Nothing is faked or decoded unverified.
 */

export interface TestPerson {
  uid: string;
  /** A fresh access token (a new login when the previous one is about to expire). */
  accessToken(): Promise<string>;
  /** The ID token of the last login (audience reports-bff: must never pass as an access token). */
  idToken(): Promise<string>;
  remove(): Promise<void>;
}

/** Adds a directory person with the given roles; `remove()` deletes it from Keycloak and LDAP. */
export async function createTestPerson(env: StackEnv, roles: Role[], label = 'core'): Promise<TestPerson> {
  const uid = `${label}.test.${randomUUID().slice(0, 8)}`;
  const dn = personDn('ru', uid);
  const password = `pw-${randomUUID()}`;

  const ldap = new Client({ url: env.LDAP_RU_URL!, timeout: 5_000 });
  try {
    await ldap.bind(adminDn(env.LDAP_RU_BASE_DN!), env.LDAP_RU_ADMIN_PASSWORD!);
    await ldap.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
      uid,
      cn: 'Core Test',
      sn: 'Test',
      givenName: 'Core',
      mail: `${uid}@ru.bionicpro.example`,
      userPassword: hashSsha(password),
    });
    for (const role of roles) {
      await ldap.modify(groupDn('ru', role), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
    }
  } finally {
    await ldap.unbind();
  }

  let tokens: { access_token: string; id_token: string; expiresAtMs: number } | undefined;

  async function login(): Promise<void> {
    const body = await fetchUserTokens({ env, username: uid, password });
    tokens = { access_token: body.access_token, id_token: body.id_token, expiresAtMs: Date.now() + body.expires_in * 1000 };
  }

  async function current() {
    if (!tokens || tokens.expiresAtMs - Date.now() < 60_000) await login();
    return tokens!;
  }

  return {
    uid,
    accessToken: async () => (await current()).access_token,
    idToken: async () => (await current()).id_token,
    async remove() {
      const admin = await connectAdmin(env);
      const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(uid)}&exact=true`);
      if (user) await admin.send('DELETE', `/users/${user.id}`);
      await forgetTotpSecret(uid);
      const cleaner = new Client({ url: env.LDAP_RU_URL!, timeout: 5_000 });
      try {
        await cleaner.bind(adminDn(env.LDAP_RU_BASE_DN!), env.LDAP_RU_ADMIN_PASSWORD!);
        for (const role of roles) {
          await cleaner.modify(groupDn('ru', role), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) })).catch(() => undefined);
        }
        await cleaner.del(dn);
      } finally {
        await cleaner.unbind();
      }
    },
  };
}

/** A reports-jobs client-credentials token (realm role reports_service). */
export async function serviceAccountToken(env: StackEnv): Promise<string> {
  const response = await fetch(`${realmIssuer(env)}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'reports-jobs', client_secret: env.JOBS_CLIENT_SECRET! }),
  });
  if (response.status !== 200) throw new Error(`client credentials answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
