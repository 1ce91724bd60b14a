import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { generateHOTP } from '@oslojs/otp';
import { Attribute, Change, Client } from 'ldapts';
import type { Role } from '../../../demo/people.ts';
import { groupDn, personDn } from '../../../stack/config/ldap/seed.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';
import { connectAdmin, realmIssuer } from '../../../stack/services/keycloak.ts';
import { adminDn, hashSsha } from '../../../stack/services/ldap.ts';

/**
 * Real people for core's tests: a temporary entry in the Russian directory (with LDAP groups =
 * realm roles), signed in through Keycloak's own HTML forms exactly as a browser would —
 * password, TOTP enrolment with a code computed by @oslojs/otp, authorization code with PKCE —
 * so the access token is a genuine reports-bff token. Nothing is faked or decoded unverified.
 */

class Browser {
  private readonly cookies = new Map<string, string>();
  private readonly issuer: string;
  constructor(issuer: string) {
    this.issuer = issuer;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (response.status === 302 && location?.startsWith(`${this.issuer}/`)) return this.request(location);
    return response;
  }

  async submit(html: string, formId: string, fields: Record<string, string>): Promise<Response> {
    const form = new RegExp(`<form[^>]*id="${formId}"[^>]*action="([^"]+)"`).exec(html) ?? new RegExp(`<form[^>]*action="([^"]+)"[^>]*id="${formId}"`).exec(html);
    if (!form) throw new Error(`form #${formId} not on the page:\n${html.slice(0, 2000)}`);
    return this.request(form[1]!.replaceAll('&amp;', '&'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  }
}

function totpNow(secret: string): string {
  return generateHOTP(new TextEncoder().encode(secret), BigInt(Math.floor(Date.now() / 1000 / 30)), 6);
}

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
  const issuer = realmIssuer(env);
  const redirectUri = `${env.BFF_PUBLIC_URL}/auth/callback`;

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

  let totpSecret = '';
  let tokens: { access_token: string; id_token: string; expiresAtMs: number } | undefined;

  async function login(): Promise<void> {
    const browser = new Browser(issuer);
    const verifier = randomBytes(32).toString('base64url');
    const state = randomUUID();
    const params = new URLSearchParams({
      client_id: env.BFF_CLIENT_ID ?? 'reports-bff',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: redirectUri,
      state,
      nonce: randomUUID(),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const start = await browser.request(`${issuer}/protocol/openid-connect/auth?${params}`);
    const afterPassword = await browser.submit(await start.text(), 'kc-form-login', { username: uid, password, credentialId: '' });
    const page = await afterPassword.text();
    let done: Response;
    if (!totpSecret) {
      totpSecret = /name="totpSecret" value="([^"]+)"/.exec(page)?.[1] ?? '';
      if (!totpSecret) throw new Error(`no TOTP enrolment page for ${uid}:\n${page.slice(0, 1500)}`);
      done = await browser.submit(page, 'kc-totp-settings-form', { totp: totpNow(totpSecret), totpSecret, userLabel: 'core test', mode: 'manual' });
    } else {
      // A code may not be reused; wait for the next 30 s step if this one was used at enrolment.
      await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 200));
      done = await browser.submit(page, 'kc-otp-login-form', { otp: totpNow(totpSecret) });
    }
    const location = done.headers.get('location');
    if (done.status !== 302 || !location?.startsWith(redirectUri)) throw new Error(`login of ${uid} did not reach the callback (HTTP ${done.status})`);
    const code = new URL(location).searchParams.get('code')!;
    const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: env.BFF_CLIENT_ID ?? 'reports-bff',
        client_secret: env.BFF_CLIENT_SECRET!,
      }),
    });
    if (response.status !== 200) throw new Error(`code exchange for ${uid} answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { access_token: string; id_token: string; expires_in: number };
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
