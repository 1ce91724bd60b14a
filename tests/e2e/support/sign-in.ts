import { expect } from 'bun:test';
import { waitForAppScreen } from './app-pages.ts';
import type { E2eBrowser } from './browser.ts';
import { clickAndWaitForNavigation, signInAtKeycloak } from './keycloak-pages.ts';
import type { E2ePerson } from './people.ts';

/**
 * A person's first sign-in from the app at `path`: signed out there, through Keycloak's password page
 * and TOTP enrolment, back signed in.
 */
export async function signInFresh(browser: E2eBrowser, person: E2ePerson, origins: { appUrl: string; keycloakOrigin: string }, path = '/'): Promise<void> {
  await browser.page.goto(`${origins.appUrl}${path}`);
  expect(await waitForAppScreen(browser.page)).toBe('signed-out');
  await person.ensureRoles();
  await clickAndWaitForNavigation(browser.page, '[data-testid="sign-in"]');
  const result = await signInAtKeycloak(browser.page, { keycloakOrigin: origins.keycloakOrigin, username: person.uid, password: person.password });
  expect(result.enrolled).toBe(true);
  expect(await waitForAppScreen(browser.page)).toBe('signed-in');
}
