/**
 * Signs a person in through Keycloak's real HTML login pages over plain HTTP — password, then
 * TOTP enrolment (first login) or a TOTP code — the way a browser would, for integration tests.
 *
 *   const browser = new TestBrowser();
 *   const { cookie } = await loginThroughBff({ bffUrl, username: 'lena.schmidt', env, browser });
 *   await fetch(`${bffUrl}/auth/me`, { headers: { cookie } });
 *
 *   const callback = await completeKeycloakLogin(authorizationUrl, { username, env });  // → redirect_uri?code&state
 *   const tokens = await fetchUserTokens({ env, username });   // access/refresh/ID token of the reports-bff client
 *
 * TOTP: Keycloak shows the secret in the enrolment form's hidden `totpSecret` field; the HMAC key is
 * its UTF-8 bytes (codes by @oslojs/otp). Secrets are remembered per username in
 * `.stack/data/keycloak-login/totp.json` (with the last time step used, because the realm refuses
 * a code twice) so later logins — in this process or another — can answer the OTP form. If a person
 * already has an authenticator this file does not know (enrolled by hand, or the file was lost),
 * the helper deletes their OTP credential through the admin API and enrols afresh.
 * Keep `browser` between logins to reuse Keycloak's SSO cookie: then no password or code is needed.
 */
import { generateHOTP } from '@oslojs/otp';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoPassword } from '../../demo/people.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import { paths } from '../../tools/kit/paths.ts';
import { connectAdmin } from '../../stack/services/keycloak.ts';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** The realm's otpPolicyLookAheadWindow: codes one step ahead are accepted. */
const LOOK_AHEAD_STEPS = 1;

/** Answers requests for one origin without a network hop (an app's `fetch`/`request`). */
export type InProcessHandler = (request: Request) => Response | Promise<Response>;

/**
 * A cookie jar per host plus fetch without automatic redirects. `inProcess` maps origins to app
 * handlers, so a BFF built in the test (`createBffApp(deps).fetch`) needs no listening port.
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  private readonly inProcess: Map<string, InProcessHandler>;

  constructor(inProcess: Record<string, InProcessHandler> = {}) {
    this.inProcess = new Map(Object.entries(inProcess).map(([origin, handler]) => [new URL(origin).origin, handler]));
  }

  cookieHeader(url: string | URL): string {
    const cookies = this.jar.get(new URL(url).host);
    return cookies ? [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  cookie(url: string | URL, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  /** Takes over another browser's cookies for one host (e.g. Keycloak's SSO session, to skip the password and code). */
  copyCookiesFrom(other: TestBrowser, url: string | URL): void {
    const cookies = other.jar.get(new URL(url).host);
    if (cookies) this.jar.set(new URL(url).host, new Map(cookies));
  }

  forgetHost(url: string | URL): void {
    this.jar.delete(new URL(url).host);
  }

  setCookie(url: string | URL, name: string, value: string): void {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }

  /** One request, cookies sent and stored (expired ones dropped); redirects are returned, not followed. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    const handler = this.inProcess.get(new URL(url).origin);
    const response = handler
      ? await handler(new Request(url, { ...init, headers, redirect: 'manual' }))
      : await fetch(url, { ...init, headers, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(15_000) });
    const host = new URL(url).host;
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const expired = value === '' || attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a) || /^\s*expires\s*=.*1970/i.test(a));
      if (!this.jar.has(host)) this.jar.set(host, new Map());
      if (expired) this.jar.get(host)!.delete(name);
      else this.jar.get(host)!.set(name, value);
    }
    return response;
  }
}

export interface LoginOptions {
  env: StackEnv;
  username: string;
  /** Defaults to the demo person's own password (demoPassword in demo/people.ts). */
  password?: string;
  /** Reuse to keep Keycloak's SSO session between logins. */
  browser?: TestBrowser;
}

// ---------------------------------------------------------------------------------------------
// TOTP secrets shared between test processes

interface TotpEntry {
  secret: string;
  /** The last time step whose code was submitted (Keycloak refuses a code twice). */
  lastStep: number;
}

const TOTP_DIR = paths.data('keycloak-login');
const TOTP_FILE = join(TOTP_DIR, 'totp.json');
const LOCK_DIR = join(TOTP_DIR, 'totp.lock');

function readTotpFile(): Record<string, TotpEntry> {
  if (!existsSync(TOTP_FILE)) return {};
  try {
    return JSON.parse(readFileSync(TOTP_FILE, 'utf8')) as Record<string, TotpEntry>;
  } catch {
    return {};
  }
}

/** Serialises read-modify-write of the secrets file across processes (mkdir is atomic). */
async function withTotpLock<T>(work: () => T | Promise<T>): Promise<T> {
  mkdirSync(TOTP_DIR, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      // A holder that died leaves the lock behind; nothing holds it for longer than a code wait.
      if (existsSync(LOCK_DIR) && Date.now() - statSync(LOCK_DIR).mtimeMs > 45_000) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`keycloak-login: ${LOCK_DIR} stayed locked for 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function writeTotpEntry(username: string, entry: TotpEntry | undefined): void {
  const all = readTotpFile();
  if (entry) all[username] = entry;
  else delete all[username];
  const temporary = `${TOTP_FILE}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(all, null, 2), { mode: 0o600 });
  renameSync(temporary, TOTP_FILE);
}

function hotp(secret: string, step: number): string {
  return generateHOTP(new TextEncoder().encode(secret), BigInt(step), DIGITS);
}

const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD_SECONDS);

/**
 * A code Keycloak has not seen for this person: the current step, or the next one (inside the
 * look-ahead window) if the current was used; waits for the clock when both were.
 */
async function claimTotpCode(username: string, secret: string): Promise<string> {
  return withTotpLock(async () => {
    const entry = readTotpFile()[username];
    const lastStep = entry && entry.secret === secret ? entry.lastStep : -1;
    let step = Math.max(currentStep(), lastStep + 1);
    while (step > currentStep() + LOOK_AHEAD_STEPS) {
      await new Promise((r) => setTimeout(r, 500));
      step = Math.max(currentStep(), lastStep + 1);
    }
    writeTotpEntry(username, { secret, lastStep: step });
    return hotp(secret, step);
  });
}

/** Drops the remembered TOTP secret of a person the test deleted (temporary directory people). */
export async function forgetTotpSecret(username: string): Promise<void> {
  await withTotpLock(() => writeTotpEntry(username, undefined));
}

/** Removes a person's OTP credentials through the admin API, so the next login enrols again. */
async function resetTotp(env: StackEnv, username: string): Promise<void> {
  const admin = await connectAdmin(env);
  const [user] = await admin.get<Array<{ id: string }>>(`/users?username=${encodeURIComponent(username)}&exact=true`);
  if (!user) throw new Error(`keycloak-login: no Keycloak user ${username}`);
  const credentials = await admin.get<Array<{ id: string; type: string }>>(`/users/${user.id}/credentials`);
  for (const credential of credentials.filter((c) => c.type === 'otp')) {
    const { status } = await admin.send('DELETE', `/users/${user.id}/credentials/${credential.id}`);
    if (status !== 204) throw new Error(`keycloak-login: deleting ${username}'s OTP credential answered ${status}`);
  }
  await withTotpLock(() => writeTotpEntry(username, undefined));
}

// ---------------------------------------------------------------------------------------------
// The login pages

function formAction(html: string, formId: string): string | undefined {
  const form = new RegExp(`<form\\b[^>]*\\bid="${formId}"[^>]*>`).exec(html)?.[0];
  const action = form && /\baction="([^"]+)"/.exec(form)?.[1];
  return action?.replaceAll('&amp;', '&');
}

function pageError(html: string): string {
  const message = /<span[^>]*(?:id="input-error[^"]*"|class="[^"]*kc-feedback-text[^"]*")[^>]*>([\s\S]*?)<\/span>/.exec(html)?.[1];
  return (message ?? html.slice(0, 500)).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

function isKeycloak(url: string, env: StackEnv): boolean {
  return new URL(url).origin === new URL(env.KEYCLOAK_URL!).origin;
}

/** Follows Keycloak-internal redirects; stops at a page (200) or a redirect leaving Keycloak. */
async function follow(browser: TestBrowser, env: StackEnv, response: Response, from: string): Promise<{ response: Response; url: string }> {
  let url = from;
  for (let hops = 0; hops < 10; hops++) {
    if (response.status < 300 || response.status >= 400) return { response, url };
    const location = new URL(response.headers.get('location') ?? '', url).toString();
    await response.body?.cancel();
    if (!isKeycloak(location, env)) return { response: new Response(null, { status: 302, headers: { location } }), url: location };
    url = location;
    response = await browser.fetch(location);
  }
  throw new Error('keycloak-login: too many redirects');
}

async function submit(browser: TestBrowser, env: StackEnv, html: string, formId: string, fields: Record<string, string>) {
  const action = formAction(html, formId);
  if (!action) throw new Error(`keycloak-login: form #${formId} not on the page: ${pageError(html)}`);
  const response = await browser.fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  return follow(browser, env, response, action);
}

/**
 * Drives Keycloak from an authorization URL to the redirect back to the client and returns that
 * URL (the client's redirect_uri with `code` and `state`, or with `error`).
 */
export async function completeKeycloakLogin(authorizationUrl: string | URL, options: LoginOptions): Promise<URL> {
  const browser = options.browser ?? new TestBrowser();
  const { env, username } = options;
  const password = options.password ?? demoPassword(env, username);
  let resetDone = false;

  for (let attempt = 0; attempt < 4; attempt++) {
    let step = await follow(browser, env, await browser.fetch(authorizationUrl), authorizationUrl.toString());
    for (let page = 0; page < 6; page++) {
      if (step.response.status === 302) return new URL(step.response.headers.get('location')!);
      if (step.response.status !== 200) throw new Error(`keycloak-login: Keycloak answered ${step.response.status} at ${step.url}`);
      const html = await step.response.text();
      if (html.includes('id="kc-form-login"')) {
        if (page > 0) throw new Error(`keycloak-login: ${username} cannot sign in: ${pageError(html)}`);
        step = await submit(browser, env, html, 'kc-form-login', { username, password, credentialId: '' });
      } else if (html.includes('id="kc-totp-settings-form"')) {
        const secret = /name="totpSecret"\s+value="([^"]+)"/.exec(html)?.[1];
        if (!secret) throw new Error('keycloak-login: the enrolment page has no totpSecret field');
        const code = await claimTotpCode(username, secret);
        step = await submit(browser, env, html, 'kc-totp-settings-form', { totp: code, totpSecret: secret, userLabel: 'integration tests', mode: 'manual' });
      } else if (html.includes('id="kc-otp-login-form"')) {
        const known = readTotpFile()[username];
        if (!known) {
          if (resetDone) throw new Error(`keycloak-login: ${username} still asks for an OTP after a reset`);
          await resetTotp(env, username);
          resetDone = true;
          break;
        }
        const code = await claimTotpCode(username, known.secret);
        const next = await submit(browser, env, html, 'kc-otp-login-form', { otp: code });
        if (next.response.status === 200) {
          const again = await next.response.clone().text();
          // A refused code (a secret from an older enrolment): enrol again once.
          if (again.includes('id="kc-otp-login-form"') && !resetDone) {
            await resetTotp(env, username);
            resetDone = true;
            break;
          }
        }
        step = next;
      } else {
        throw new Error(`keycloak-login: unexpected page at ${step.url}: ${pageError(html)}`);
      }
    }
    // A reset happened: start over without Keycloak's cookies (the half-finished login is abandoned).
    browser.forgetHost(env.KEYCLOAK_URL!);
  }
  throw new Error(`keycloak-login: could not complete the login of ${username}`);
}

export interface BffLogin {
  /** `name=value`, ready for a Cookie header. */
  cookie: string;
  cookieName: string;
  cookieValue: string;
  /** Where the callback sent the browser (the app, with the return path). */
  location: URL;
  browser: TestBrowser;
}

/**
 * /auth/login → Keycloak → /auth/callback on the given BFF. Keycloak always redirects to the
 * registered redirect URI (BFF_PUBLIC_URL/auth/callback); the callback's query is replayed
 * against `bffUrl`, so a BFF under test may listen on any port.
 */
export async function loginThroughBff(options: LoginOptions & { bffUrl: string; returnTo?: string }): Promise<BffLogin> {
  const browser = options.browser ?? new TestBrowser();
  const loginUrl = new URL('/auth/login', options.bffUrl);
  if (options.returnTo) loginUrl.searchParams.set('returnTo', options.returnTo);
  const start = await browser.fetch(loginUrl);
  if (start.status !== 302) throw new Error(`keycloak-login: /auth/login answered ${start.status}: ${await start.text()}`);
  const callback = await completeKeycloakLogin(start.headers.get('location')!, { ...options, browser });
  if (callback.searchParams.has('error')) throw new Error(`keycloak-login: Keycloak answered ${callback.searchParams.get('error')}: ${callback.searchParams.get('error_description')}`);
  const done = await browser.fetch(new URL(`/auth/callback${callback.search}`, options.bffUrl));
  const location = new URL(done.headers.get('location') ?? '', options.bffUrl);
  if (done.status !== 302 || location.searchParams.has('error')) throw new Error(`keycloak-login: /auth/callback answered ${done.status} → ${location}`);
  for (const cookieName of ['__Host-bff_session', 'bff_session']) {
    const cookieValue = browser.cookie(options.bffUrl, cookieName);
    if (cookieValue) return { cookie: `${cookieName}=${cookieValue}`, cookieName, cookieValue, location, browser };
  }
  throw new Error('keycloak-login: the callback set no session cookie');
}

/**
 * Tokens for a person, issued to the reports-bff client by a real authorization-code + PKCE login
 * (the realm allows no password grant). For tests of core, which takes bearer tokens.
 */
export async function fetchUserTokens(options: LoginOptions): Promise<{ access_token: string; refresh_token: string; id_token: string; expires_in: number }> {
  const { env } = options;
  const issuer = `${env.KEYCLOAK_URL}/realms/${env.KEYCLOAK_REALM}`;
  const redirectUri = `${env.BFF_PUBLIC_URL}/auth/callback`;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(`${issuer}/protocol/openid-connect/auth`);
  for (const [name, value] of Object.entries({
    client_id: env.BFF_CLIENT_ID ?? 'reports-bff',
    response_type: 'code',
    scope: 'openid profile email',
    redirect_uri: redirectUri,
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  const callback = await completeKeycloakLogin(authorize, options);
  if (callback.searchParams.get('state') !== state || !callback.searchParams.get('code')) throw new Error(`keycloak-login: unexpected callback ${callback}`);
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: env.BFF_CLIENT_ID ?? 'reports-bff',
      client_secret: env.BFF_CLIENT_SECRET!,
    }),
  });
  if (response.status !== 200) throw new Error(`keycloak-login: token exchange answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { access_token: string; refresh_token: string; id_token: string; expires_in: number };
}
