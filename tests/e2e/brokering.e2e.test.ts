import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { waitForAppScreen, waitForSelector, waitForTestId } from './support/app-pages.ts';
import { startApps, type RunningApps } from './support/apps.ts';
import { closeBrowsers, openBrowser, type E2eBrowser } from './support/browser.ts';
import { clickAndWaitForNavigation, confirmKeycloakLogout, signInAtKeycloak, type Authenticator } from './support/keycloak-pages.ts';
import { keycloakAdmin, type KeycloakAdmin } from './support/keycloak-admin.ts';
import { findLeaksInResponses } from './support/token-leaks.ts';

/**
 * Identity brokering with a stand-in for Yandex ID: a second, local Keycloak realm acts as the
 * external OpenID Connect provider (realm + confidential client + one person, created here through
 * the admin API). reports-realm gets an OIDC identity provider pointing at it, with the same
 * post-broker TOTP flow the Yandex IdP uses. The person signs in through it, is made to enrol TOTP,
 * and on the next sign-in is asked for a code again. Everything is removed afterwards.
 */

const env = loadStackEnv();
const keycloakOrigin = new URL(env.KEYCLOAK_URL!).origin;
const realm = env.KEYCLOAK_REALM!;
const suffix = randomBytes(4).toString('hex');
const externalRealm = `e2e-external-idp-${suffix}`;
const alias = `e2e-oidc-${suffix}`;
const clientId = 'bionicpro-broker';
const clientSecret = randomBytes(24).toString('base64url');
const person = { username: `ext.person.${suffix}`, password: `pw-${randomBytes(12).toString('base64url')}`, firstName: 'Алексей', lastName: 'Брокеров', email: `ext.person.${suffix}@external.example` };

let apps: RunningApps;
let admin: KeycloakAdmin;
const browsers: E2eBrowser[] = [];

beforeAll(async () => {
  apps = await startApps(env);
  admin = await keycloakAdmin(env);
  await admin.must('POST', '', { realm: externalRealm, enabled: true, displayName: 'External IdP (Yandex ID stand-in)', loginWithEmailAllowed: false });
  await admin.must('POST', `/${externalRealm}/clients`, {
    clientId,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret: clientSecret,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    implicitFlowEnabled: false,
    redirectUris: [`${keycloakOrigin}/realms/${realm}/broker/${alias}/endpoint`],
  });
  await admin.must('POST', `/${externalRealm}/users`, {
    username: person.username,
    enabled: true,
    email: person.email,
    emailVerified: true,
    firstName: person.firstName,
    lastName: person.lastName,
    credentials: [{ type: 'password', value: person.password, temporary: false }],
  });
  const external = `${keycloakOrigin}/realms/${externalRealm}`;
  await admin.must('POST', `/${realm}/identity-provider/instances`, {
    alias,
    displayName: 'Yandex ID (e2e stand-in)',
    providerId: 'oidc',
    enabled: true,
    trustEmail: false,
    storeToken: false,
    hideOnLogin: false,
    postBrokerLoginFlowAlias: 'post-broker-totp',
    config: {
      issuer: external,
      authorizationUrl: `${external}/protocol/openid-connect/auth`,
      tokenUrl: `${external}/protocol/openid-connect/token`,
      userInfoUrl: `${external}/protocol/openid-connect/userinfo`,
      jwksUrl: `${external}/protocol/openid-connect/certs`,
      logoutUrl: `${external}/protocol/openid-connect/logout`,
      validateSignature: 'true',
      useJwksUrl: 'true',
      clientId,
      clientSecret,
      clientAuthMethod: 'client_secret_post',
      defaultScope: 'openid profile email',
      pkceEnabled: 'true',
      pkceMethod: 'S256',
      syncMode: 'IMPORT',
      hideOnLogin: 'false',
    },
  });
}, 120_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await closeBrowsers();
  if (admin) {
    await admin.request('DELETE', `/${realm}/identity-provider/instances/${alias}`).catch(() => undefined);
    await admin.deleteUserByUsername(realm, person.username).catch((error) => console.warn('e2e cleanup (brokered user):', error));
    await admin.request('DELETE', `/${externalRealm}`).catch(() => undefined);
  }
  await apps?.stop();
}, 120_000);

/** From the app's sign-in button to Keycloak's login page, then into the external IdP. */
async function signInThroughBroker(browser: E2eBrowser, authenticator?: Authenticator, shots?: string) {
  const { page } = browser;
  await clickAndWaitForNavigation(page, '[data-testid="sign-in"], [data-testid="sign-in-again"]');
  await waitForSelector(page, `#social-${alias}`);
  if (shots) await browser.screenshot(`${shots}-keycloak-with-idp`, { fullPage: false });
  await clickAndWaitForNavigation(page, `#social-${alias}`);
  return signInAtKeycloak(page, {
    keycloakOrigin,
    username: person.username,
    password: person.password,
    authenticator,
    onPage: shots ? async (kind) => void (await browser.screenshot(`${shots}-${kind}`, { fullPage: false })) : undefined,
  });
}

test('a person from an external OIDC provider signs in through reports-realm and must enrol TOTP, then present a code', async () => {
  const browser = await openBrowser({ locale: 'ru-RU' });
  browsers.push(browser);
  const { page } = browser;
  await page.goto(apps.appUrl);
  expect(await waitForAppScreen(page)).toBe('signed-out');

  const first = await signInThroughBroker(browser, undefined, '17-brokered');
  expect(first.enrolled).toBe(true);
  expect(new URL(page.url()).origin).toBe(new URL(apps.appUrl).origin);
  expect(await waitForAppScreen(page)).toBe('signed-in');
  expect(await page.getByTestId('user-name').innerText()).toBe(`${person.firstName} ${person.lastName}`);

  // Keycloak linked a new reports-realm account to the external identity.
  const user = await admin.findUser(realm, person.username);
  expect(user).toBeDefined();
  const links = (await admin.must('GET', `/${realm}/users/${user!.id}/federated-identity`)) as Array<{ identityProvider: string }>;
  expect(links.map((link) => link.identityProvider)).toEqual([alias]);
  const credentials = (await admin.must('GET', `/${realm}/users/${user!.id}/credentials`)) as Array<{ type: string }>;
  expect(credentials.map((c) => c.type)).toContain('otp');

  // A brokered account gets no business role by itself: the app says so instead of failing.
  await waitForTestId(page, 'forbidden');
  await browser.screenshot('18-brokered-no-access-ru');

  // Sign out of BionicPRO; the next sign-in goes through the external IdP again and asks for the code.
  await clickAndWaitForNavigation(page, '[data-testid="sign-out"]');
  await confirmKeycloakLogout(page, keycloakOrigin);
  expect(await waitForAppScreen(page)).toBe('signed-out');
  const second = await signInThroughBroker(browser, first.authenticator);
  expect(second.enrolled).toBe(false);
  expect(second.askedForCode).toBe(true);
  expect(await waitForAppScreen(page)).toBe('signed-in');

  await browser.settled();
  expect(findLeaksInResponses(browser.responses, keycloakOrigin)).toEqual([]);
}, 180_000);
