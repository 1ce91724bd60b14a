import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import type { Page } from 'playwright-core';

/**
 * A person's side of Keycloak's login pages, in the real browser: username and password, then
 * either TOTP enrolment (first sign-in: the test reads the secret Keycloak prints in its "Unable
 * to scan?" text mode, exactly what a person would type into an authenticator app) or the
 * one-time-code prompt (every later sign-in).
 */

const PERIOD_SECONDS = 30;
/** The realm's look-ahead window: a code one step ahead is accepted. */
const LOOK_AHEAD_STEPS = 1;

/** The authenticator app the test stands in for. */
export interface Authenticator {
  key: Uint8Array;
  /** Keycloak refuses a code twice; the next one comes from a later step. */
  lastStep: number;
}

export function authenticatorFromDisplayedSecret(displayed: string): Authenticator {
  const compact = displayed.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z2-7]+=*$/.test(compact)) throw new Error(`not a base32 TOTP secret: "${displayed}"`);
  return { key: decodeBase32IgnorePadding(compact), lastStep: -1 };
}

const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD_SECONDS);

/** A code Keycloak has not seen yet: this step's, or the next (look-ahead), or after a wait. */
export async function nextCode(authenticator: Authenticator): Promise<string> {
  let step = Math.max(currentStep(), authenticator.lastStep + 1);
  while (step > currentStep() + LOOK_AHEAD_STEPS) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    step = Math.max(currentStep(), authenticator.lastStep + 1);
  }
  authenticator.lastStep = step;
  return generateHOTP(authenticator.key, BigInt(step), 6);
}

export interface KeycloakSignIn {
  authenticator: Authenticator;
  /** Keycloak showed the TOTP enrolment page (first sign-in). */
  enrolled: boolean;
  /** Keycloak asked for a one-time code from an existing authenticator. */
  askedForCode: boolean;
}

export interface SignInOptions {
  keycloakOrigin: string;
  username: string;
  password: string;
  /** The person's authenticator from an earlier enrolment, if any. */
  authenticator?: Authenticator;
  /** Skip the password form (a brokered login starts at the external IdP's own form). */
  skipPassword?: boolean;
  /** Called on each Keycloak page before it is submitted (screenshots). */
  onPage?: (kind: 'login' | 'totp-enrolment' | 'totp-code' | 'review-profile') => Promise<void>;
}

/** Submits and waits for the next document (Keycloak answers every form with a redirect or a page). */
export async function clickAndWaitForNavigation(page: Page, selector: string): Promise<void> {
  // Generous: a brokered hop has Keycloak call itself (token, user info, keys), slow on a busy box.
  const navigation = page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 45_000 });
  await page.click(selector, { noWaitAfter: true });
  await navigation;
}

const onKeycloak = (page: Page, origin: string) => new URL(page.url()).origin === origin;

/** Whether an element is on the page; bounded, so a renderer that stopped answering fails the test clearly. */
async function has(page: Page, selector: string): Promise<boolean> {
  const count = page.locator(selector).count();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the page at ${page.url()} did not answer within 15 s`)), 15_000));
  return (await Promise.race([count, timeout])) > 0;
}

async function whichPage(page: Page): Promise<'login' | 'totp-enrolment' | 'totp-code' | 'review-profile' | 'other'> {
  if (await has(page, '#kc-totp-settings-form')) return 'totp-enrolment';
  if (await has(page, '#kc-idp-review-profile-form')) return 'review-profile';
  if (await has(page, '#kc-otp-login-form')) return 'totp-code';
  if (await has(page, '#kc-form-login')) return 'login';
  return 'other';
}

async function pageMessage(page: Page): Promise<string> {
  const text = await page.locator('[id^="input-error"], .pf-v5-c-alert__title, #kc-page-title').allInnerTexts().catch(() => []);
  return text.join(' | ').replace(/\s+/g, ' ').trim();
}

/** Waits until the browser has left Keycloak (or shows one of the pages this helper knows). */
async function settle(page: Page, origin: string): Promise<void> {
  await page.waitForLoadState('domcontentloaded');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (!onKeycloak(page, origin)) return;
    if ((await whichPage(page)) !== 'other') return;
    await page.waitForTimeout(100);
  }
}

export async function signInAtKeycloak(page: Page, options: SignInOptions): Promise<KeycloakSignIn> {
  const { keycloakOrigin: origin } = options;
  let authenticator = options.authenticator;
  let enrolled = false;
  let askedForCode = false;
  let passwordDone = options.skipPassword ?? false;

  await page.bringToFront();
  await settle(page, origin);
  for (let steps = 0; steps < 8 && onKeycloak(page, origin); steps++) {
    const kind = await whichPage(page);
    if (kind === 'login') {
      if (passwordDone) throw new Error(`Keycloak refused ${options.username}: ${await pageMessage(page)}`);
      await options.onPage?.('login');
      await page.fill('#username', options.username);
      await page.fill('#password', options.password);
      await clickAndWaitForNavigation(page, '#kc-login');
      passwordDone = true;
    } else if (kind === 'totp-enrolment') {
      if (enrolled) throw new Error(`Keycloak refused the TOTP enrolment code: ${await pageMessage(page)}`);
      await options.onPage?.('totp-enrolment');
      // "Unable to scan?" switches the page to text mode, which prints the secret in base32.
      await clickAndWaitForNavigation(page, '#mode-manual');
      const displayed = await page.locator('#kc-totp-secret-key').innerText();
      authenticator = authenticatorFromDisplayedSecret(displayed);
      await page.fill('#totp', await nextCode(authenticator));
      await page.fill('#userLabel', 'e2e authenticator');
      await clickAndWaitForNavigation(page, '#saveTOTPBtn');
      enrolled = true;
    } else if (kind === 'review-profile') {
      // First broker login: Keycloak shows what the external IdP sent; the person confirms it.
      await options.onPage?.('review-profile');
      await clickAndWaitForNavigation(page, '#kc-idp-review-profile-form [type="submit"]');
    } else if (kind === 'totp-code') {
      if (askedForCode) throw new Error(`Keycloak refused the one-time code: ${await pageMessage(page)}`);
      if (!authenticator) throw new Error(`Keycloak asks ${options.username} for a code, but no authenticator was enrolled in this test`);
      await options.onPage?.('totp-code');
      await page.fill('#otp', await nextCode(authenticator));
      await clickAndWaitForNavigation(page, '#kc-login');
      askedForCode = true;
    } else {
      throw new Error(`unexpected Keycloak page at ${page.url()}: ${await pageMessage(page)}`);
    }
    await settle(page, origin);
  }
  if (onKeycloak(page, origin)) throw new Error(`still on Keycloak after signing in ${options.username}: ${page.url()}`);
  if (!authenticator) throw new Error(`${options.username} signed in without any TOTP step: mandatory TOTP is not enforced`);
  return { authenticator, enrolled, askedForCode };
}

/** Keycloak's "Do you want to log out?" page (end-session without an ID token hint), if shown. */
export async function confirmKeycloakLogout(page: Page, keycloakOrigin: string): Promise<void> {
  await page.waitForLoadState('domcontentloaded');
  if (onKeycloak(page, keycloakOrigin) && (await has(page, '#kc-logout'))) {
    await clickAndWaitForNavigation(page, '#kc-logout');
  }
}
