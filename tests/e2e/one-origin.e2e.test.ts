import { afterAll, beforeAll, expect, test } from 'bun:test';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { waitForAppScreen } from './support/app-pages.ts';
import { startApps, type RunningApps } from './support/apps.ts';
import { closeBrowsers, openBrowser, type E2eBrowser } from './support/browser.ts';
import { clickAndWaitForNavigation, signInAtKeycloak } from './support/keycloak-pages.ts';
import { sweepLeftovers } from './support/leftovers.ts';
import { createE2ePerson, type E2ePerson } from './support/people.ts';
import { removeReports } from './support/report-data.ts';

/**
 * The built app served by the BFF itself (FRONTEND_DIST_DIR), one origin with /auth and /api: a
 * deep link on the BFF's origin loads the app under the BFF's headers, nothing is refused or fails,
 * the hashed assets are immutable and the document is revalidated; "Sign in" goes to Keycloak and
 * the person comes back to the same page — on FRONTEND_URL (3000 here), where the callback sends them.
 */

const env = loadStackEnv();
const keycloakOrigin = new URL(env.KEYCLOAK_URL!).origin;
const keycloakAuthEndpoint = `${env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL}/realms/${env.KEYCLOAK_REALM}/protocol/openid-connect/auth`;
const DAY = '2026-11-24';
const IMMUTABLE = 'public, max-age=31536000, immutable';
let apps: RunningApps;
let person: E2ePerson | undefined;
const browsers: E2eBrowser[] = [];

beforeAll(async () => {
  apps = await startApps(env);
  await sweepLeftovers(env);
  person = await createE2ePerson(env, { region: 'eu', label: 'origin', givenName: 'Inès', surname: 'Moreau', roles: ['prothetic_user'] });
}, 120_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await closeBrowsers();
  if (apps && person) await removeReports(env, [person.uid]).catch((error) => console.warn('e2e cleanup (reports):', error));
  await person?.remove().catch((error) => console.warn(`e2e cleanup (${person?.uid}):`, error));
  await apps?.stop();
}, 120_000);

test('the BFF serves the built app: a deep link on its origin renders under its headers and signs in back to the same page', async () => {
  const browser = await openBrowser({ locale: 'en-GB' });
  browsers.push(browser);
  const { page } = browser;
  const deepLink = `${apps.bffUrl}/reports/${DAY}`;
  const meUrl = `${apps.bffUrl}/auth/me`;
  // Signed out, the app's session check answers 401 (and Chromium logs it): expected, nothing else is.
  const isSignedOutCheck = (url: string, status: number) => url === meUrl && status === 401;

  const problems: string[] = [];
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (message.location().url === meUrl && message.text().includes('401')) return;
    problems.push(`console error: ${message.text().slice(0, 200)}`);
  });
  page.on('requestfailed', (request) => problems.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400 && !isSignedOutCheck(response.url(), response.status())) problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  // Heard in the page, reported through a binding (CDP, not a page script, so the CSP cannot silence it).
  await page.exposeBinding('reportCspViolation', (_source, text: string) => void violations.push(text));
  await page.addInitScript(() => {
    const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
    document.addEventListener('securitypolicyviolation', (event) => report(`${event.violatedDirective} refused ${event.blockedURI || 'inline'} on ${event.documentURI}`));
  });

  const documentResponse = await page.goto(deepLink);
  expect(await waitForAppScreen(page)).toBe('signed-out');
  await page.getByRole('heading', { level: 1, name: 'Your prosthesis, day by day' }).waitFor();
  const signIn = page.getByTestId('sign-in');
  expect(await signIn.innerText()).toBe('Sign in');
  expect(await signIn.getAttribute('href')).toBe(`/auth/login?returnTo=${encodeURIComponent(`/reports/${DAY}`)}`);
  expect(page.url()).toBe(deepLink);
  await page.waitForLoadState('networkidle');
  await browser.settled();
  await browser.screenshot('19-one-origin-signed-out-en');

  // The document: index.html from the BFF (SPA fallback), revalidated, with the BFF's own CSP.
  const bffCsp = (await fetch(`${apps.bffUrl}/health/live`)).headers.get('content-security-policy');
  expect(bffCsp).toContain("script-src 'self'");
  const documentHeaders = await documentResponse!.allHeaders();
  expect(documentResponse!.status()).toBe(200);
  expect(documentHeaders['content-type']).toBe('text/html; charset=utf-8');
  expect(documentHeaders['cache-control']).toBe('no-cache');
  expect(documentHeaders['content-security-policy']).toBe(bffCsp!);
  expect(documentHeaders['x-frame-options']).toBe('DENY');

  // Everything the page loaded came from the BFF's origin; the hashed JS and CSS are immutable.
  const loaded = browser.responses.filter((response) => !response.url.startsWith('data:'));
  expect(loaded.filter((response) => new URL(response.url).origin !== apps.bffUrl).map((response) => response.url)).toEqual([]);
  const assets = loaded.filter((response) => response.url.startsWith(`${apps.bffUrl}/assets/`));
  expect(assets.some((asset) => asset.url.endsWith('.js'))).toBe(true);
  expect(assets.some((asset) => asset.url.endsWith('.css'))).toBe(true);
  expect(loaded.filter((response) => /\.(js|css)$/.test(new URL(response.url).pathname)).length).toBe(assets.length);
  for (const asset of assets) expect({ url: asset.url, status: asset.status, cacheControl: asset.headers['cache-control'] }).toEqual({ url: asset.url, status: 200, cacheControl: IMMUTABLE });
  expect(loaded.some((response) => isSignedOutCheck(response.url, response.status))).toBe(true);

  expect(violations).toEqual([]);
  expect(problems).toEqual([]);
  // The listener is live: an inline script, which the CSP refuses, is heard.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'void 0';
    document.head.append(script);
  });
  for (let waitedMs = 0; violations.length === 0 && waitedMs < 5_000; waitedMs += 100) await page.waitForTimeout(100);
  expect(violations).toEqual([expect.stringContaining('script-src')]);

  // "Sign in": the BFF gets the return path and sends the browser to the realm's auth endpoint.
  const loginRequest = page.waitForRequest((request) => request.url().startsWith(`${apps.bffUrl}/auth/login`));
  const authRequest = page.waitForRequest((request) => request.url().startsWith(`${keycloakAuthEndpoint}?`));
  await person!.ensureRoles();
  await clickAndWaitForNavigation(page, '[data-testid="sign-in"]');
  expect((await loginRequest).url()).toBe(`${apps.bffUrl}/auth/login?returnTo=${encodeURIComponent(`/reports/${DAY}`)}`);
  const auth = new URL((await authRequest).url());
  expect(auth.searchParams.get('redirect_uri')).toBe(`${apps.bffUrl}/auth/callback`);
  expect(auth.searchParams.get('response_type')).toBe('code');
  expect(auth.searchParams.get('code_challenge_method')).toBe('S256');

  // The return path survived the round trip; the callback sends the browser to FRONTEND_URL.
  const result = await signInAtKeycloak(page, { keycloakOrigin, username: person!.uid, password: person!.password });
  expect(result.enrolled).toBe(true);
  expect(page.url()).toBe(`${apps.appUrl}/reports/${DAY}`);
  expect(await waitForAppScreen(page)).toBe('signed-in');
  await page.getByText('There is no data for this day.').waitFor();
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain('24 November 2026');
}, 150_000);
