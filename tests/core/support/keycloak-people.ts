import type { Role } from '../../../demo/people.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { realmIssuer } from '../../../stack/services/keycloak.ts';
import { addDirectoryPerson } from '../../helpers/directory-person.ts';
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
  const { uid, password, remove } = await addDirectoryPerson(env, { uidPrefix: label, roles, givenName: 'Core', surname: 'Test' });

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
      await remove();
      await forgetTotpSecret(uid);
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
