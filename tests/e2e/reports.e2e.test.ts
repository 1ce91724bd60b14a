import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { compact, integerIn, metricValue, percentIn, waitForAppScreen, waitForTestId } from './support/app-pages.ts';
import { startApps, type RunningApps } from './support/apps.ts';
import { sweepLeftovers } from './support/leftovers.ts';
import { closeBrowsers, openBrowser, type E2eBrowser } from './support/browser.ts';
import { clickAndWaitForNavigation, confirmKeycloakLogout, signInAtKeycloak, type Authenticator } from './support/keycloak-pages.ts';
import { createE2ePerson, type E2ePerson } from './support/people.ts';
import { removeReports, seedReports, type SeededReports } from './support/report-data.ts';
import { findLeaksInResponses, findJwt, readableByPageScript } from './support/token-leaks.ts';

/**
 * A prosthesis owner from each directory signs in through Keycloak in a real browser for the first
 * time (password, TOTP enrolment), lands on their own reports in their language, opens a day; a
 * second sign-in asks for the code; no token ever reaches the browser; sign-out ends the session
 * for good (back button, replayed cookie); an expired session brings the person back to the same
 * page after signing in again; nobody reads another person's report or CDN object.
 */

const env = loadStackEnv();
const keycloakOrigin = new URL(env.KEYCLOAK_URL!).origin;
let apps: RunningApps;
let ru: { person: E2ePerson; reports: SeededReports; authenticator?: Authenticator };
let eu: { person: E2ePerson; reports: SeededReports; authenticator?: Authenticator };
const browsers: E2eBrowser[] = [];

async function browserFor(locale: string, options: { mobile?: boolean } = {}): Promise<E2eBrowser> {
  const browser = await openBrowser(options.mobile ? { locale, viewport: { width: 390, height: 844 }, isMobile: true } : { locale });
  browsers.push(browser);
  return browser;
}

beforeAll(async () => {
  apps = await startApps(env);
  await sweepLeftovers(env);
  const ruPerson = await createE2ePerson(env, { region: 'ru', label: 'ru', givenName: 'Мария', surname: 'Лебедева', roles: ['prothetic_user'] });
  const euPerson = await createE2ePerson(env, { region: 'eu', label: 'eu', givenName: 'Clara', surname: 'Becker', roles: ['prothetic_user'] });
  ru = { person: ruPerson, reports: await seedReports(env, { userId: ruPerson.uid, region: 'ru', model: 'BionicHand X2', salt: 3 }) };
  eu = { person: euPerson, reports: await seedReports(env, { userId: euPerson.uid, region: 'eu', model: 'BionicArm Pro', salt: 8 }) };
}, 120_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await closeBrowsers();
  const people = [ru?.person, eu?.person].filter((p): p is E2ePerson => p !== undefined);
  if (apps) await removeReports(env, people.map((p) => p.uid)).catch((error) => console.warn('e2e cleanup (reports):', error));
  for (const person of people) await person.remove().catch((error) => console.warn(`e2e cleanup (${person.uid}):`, error));
  await apps?.stop();
}, 120_000);

/** From the signed-out page through Keycloak back to the app; returns what Keycloak asked. */
async function signIn(browser: E2eBrowser, who: { person: E2ePerson; authenticator?: Authenticator }, shots?: string) {
  const { page } = browser;
  expect(await waitForAppScreen(page)).not.toBe('signed-in');
  await who.person.ensureRoles();
  await clickAndWaitForNavigation(page, '[data-testid="sign-in"], [data-testid="sign-in-again"]');
  const result = await signInAtKeycloak(page, {
    keycloakOrigin,
    username: who.person.uid,
    password: who.person.password,
    authenticator: who.authenticator,
    onPage: shots ? async (kind) => void (await browser.screenshot(`${shots}-keycloak-${kind}`, { fullPage: false })) : undefined,
  });
  who.authenticator = result.authenticator;
  expect(new URL(page.url()).origin).toBe(new URL(apps.appUrl).origin);
  expect(await waitForAppScreen(page)).toBe('signed-in');
  return result;
}

async function expectOwnSummary(browser: E2eBrowser, who: { person: E2ePerson; reports: SeededReports }, language: 'ru' | 'en') {
  const { page } = browser;
  const { totals, model, days } = who.reports;
  await waitForTestId(page, 'summary');
  expect(await page.getByTestId('user-name').innerText()).toBe(who.person.displayName);
  expect(await metricValue(page, 'metric-active-days')).toBe(integerIn(language, totals.activeDays));
  expect(await metricValue(page, 'metric-movements')).toBe(integerIn(language, totals.movements));
  expect(await metricValue(page, 'metric-success-rate')).toBe(percentIn(language, totals.successRatePct));
  expect(await metricValue(page, 'metric-model')).toBe(compact(model));
  for (const day of days) {
    const row = page.getByTestId(`day-${day.date}`);
    await row.waitFor();
    expect(compact(await row.innerText())).toContain(integerIn(language, day.movements));
  }
  expect(await page.locator('[data-testid^="day-2"]').count()).toBe(days.length);
}

async function expectNoTokensInBrowser(browser: E2eBrowser) {
  const readable = await readableByPageScript(browser.page);
  expect(findJwt(readable.cookie)).toBeUndefined();
  expect(findJwt(readable.localStorage)).toBeUndefined();
  expect(findJwt(readable.sessionStorage)).toBeUndefined();
  // The session cookie is HttpOnly: the app's scripts cannot even see that it exists.
  expect(readable.cookie).not.toContain('bff_session');
  await browser.settled();
  expect(browser.responses.length).toBeGreaterThan(10);
  expect(findLeaksInResponses(browser.responses, keycloakOrigin)).toEqual([]);
}

describe('prosthesis owners in the browser', () => {
  test('a Russian person signs in for the first time (TOTP enrolment) and sees their own numbers in Russian', async () => {
    const browser = await browserFor('ru-RU');
    const { page } = browser;
    await page.goto(apps.appUrl);
    expect(await waitForAppScreen(page)).toBe('signed-out');
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    expect(await page.getByTestId('sign-in').innerText()).toBe('Войти');
    await browser.screenshot('01-signed-out-ru');

    const first = await signIn(browser, ru, '02-first-sign-in');
    expect(first.enrolled).toBe(true);
    expect(first.askedForCode).toBe(false);
    await expectOwnSummary(browser, ru, 'ru');
    await browser.screenshot('03-reports-ru');

    // The documents came from the CDN edge through signed URLs, not as a fallback through the API.
    await browser.settled();
    // CDN URLs carry the owner ref, never the username (issue 11).
    const cdnReads = browser.responses.filter((r) => r.url.startsWith(`${apps.cdnUrl}/reports/${ru.reports.ownerRef}/`) && r.status === 200);
    expect(browser.responses.filter((r) => r.url.startsWith(apps.cdnUrl) && r.url.includes(ru.person.uid))).toEqual([]);
    expect(cdnReads.length).toBeGreaterThanOrEqual(2);

    // A daily report: totals, charts, the hourly table.
    const day = ru.reports.days[0]!;
    await page.getByTestId(`day-${day.date}`).getByRole('link').click();
    await page.waitForURL(`${apps.appUrl}/reports/${day.date}`);
    await waitForTestId(page, 'day-totals');
    expect(await metricValue(page, 'total-movements')).toBe(integerIn('ru', day.movements));
    expect(await metricValue(page, 'total-errors')).toBe(integerIn('ru', day.errors));
    expect(await page.locator('figure.chart svg[role="img"]').count()).toBe(4);
    const busiest = day.hours.find((h) => h.hour === day.busiestHour)!;
    const row = page.getByTestId('hourly-table').locator('tbody tr').nth(day.busiestHour);
    expect(compact(await row.locator('th').innerText())).toBe(`${String(day.busiestHour).padStart(2, '0')}:00`);
    expect(compact(await row.locator('td').first().innerText())).toBe(integerIn('ru', busiest.movements));
    await browser.screenshot('04-daily-report-ru');

    await expectNoTokensInBrowser(browser);
  }, 120_000);

  test('a European person signs in for the first time and sees their own numbers in English', async () => {
    const browser = await browserFor('en-GB');
    const { page } = browser;
    await page.goto(apps.appUrl);
    expect(await page.getByTestId('sign-in').innerText()).toBe('Sign in');
    await browser.screenshot('05-signed-out-en');
    const first = await signIn(browser, eu);
    expect(first.enrolled).toBe(true);
    await expectOwnSummary(browser, eu, 'en');
    await browser.screenshot('06-reports-en');

    // Keyboard only: the first Tab reaches the skip link; a day link opens with Enter.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const day = eu.reports.days[1]!;
    await page.getByTestId(`day-${day.date}`).getByRole('link').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${apps.appUrl}/reports/${day.date}`);
    await waitForTestId(page, 'day-totals');
    // After an in-app navigation the new page's heading has focus (screen readers announce it).
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await metricValue(page, 'total-movements')).toBe(integerIn('en', day.movements));
    expect(await page.getByTestId('previous-day').isVisible()).toBe(true);
    expect(await page.getByTestId('next-day').isVisible()).toBe(true);
    await browser.screenshot('07-daily-report-en');

    await expectNoTokensInBrowser(browser);
  }, 120_000);
});

describe('sessions in the browser', () => {
  test('a second sign-in asks for the TOTP code; sign-out ends the session for the back button and a replayed cookie', async () => {
    const browser = await browserFor('ru-RU');
    const { page, context } = browser;
    await page.goto(apps.appUrl);
    const second = await signIn(browser, ru, '08-second-sign-in');
    expect(second.enrolled).toBe(false);
    expect(second.askedForCode).toBe(true);
    await expectOwnSummary(browser, ru, 'ru');

    const day = ru.reports.days[0]!;
    await page.getByTestId(`day-${day.date}`).getByRole('link').click();
    await waitForTestId(page, 'day-totals');
    const session = (await context.cookies(apps.bffUrl)).find((cookie) => cookie.name.endsWith('bff_session'));
    expect(session?.httpOnly).toBe(true);
    const replay = { cookie: `${session!.name}=${session!.value}` };
    expect((await fetch(`${apps.bffUrl}/auth/me`, { headers: replay })).status).toBe(200);

    await clickAndWaitForNavigation(page, '[data-testid="sign-out"]');
    await confirmKeycloakLogout(page, keycloakOrigin);
    expect(await waitForAppScreen(page)).toBe('signed-out');
    expect(new URL(page.url()).pathname).toBe('/');

    // Back to the report page: the app asks the BFF again and shows no report.
    const meAnswers: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/auth/me')) meAnswers.push(response.status());
    });
    for (let i = 0; i < 4 && new URL(page.url()).pathname !== `/reports/${day.date}`; i++) await page.goBack({ waitUntil: 'domcontentloaded' });
    expect(new URL(page.url()).pathname).toBe(`/reports/${day.date}`);
    expect(await waitForAppScreen(page)).not.toBe('signed-in');
    expect(await page.getByTestId('day-totals').count()).toBe(0);
    expect(meAnswers).toContain(401);

    // The old cookie, replayed by hand, opens nothing: not the BFF, not the API behind it.
    for (const path of ['/auth/me', '/api/reports/summary', `/api/reports/${day.date}`, '/api/reports/cdn/list']) {
      expect((await fetch(`${apps.bffUrl}${path}`, { headers: replay })).status).toBe(401);
      expect((await fetch(`${apps.appUrl}${path}`, { headers: replay })).status).toBe(401);
    }
  }, 150_000);

  test('when the session ends, the person signs in again and comes back to the page they were on', async () => {
    const browser = await browserFor('en-GB');
    const { page, context } = browser;
    await page.goto(`${apps.appUrl}/reports/${eu.reports.days[1]!.date}`);
    // A deep link while signed out: sign-in carries it through Keycloak and back.
    await signIn(browser, eu);
    expect(new URL(page.url()).pathname).toBe(`/reports/${eu.reports.days[1]!.date}`);
    await waitForTestId(page, 'day-totals');

    // The session ends elsewhere (here: signed out from another tab with the same cookie).
    const session = (await context.cookies(apps.bffUrl)).find((cookie) => cookie.name.endsWith('bff_session'))!;
    const ended = await fetch(`${apps.bffUrl}/auth/logout`, { method: 'POST', headers: { cookie: `${session.name}=${session.value}`, origin: apps.appUrl } });
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { ended: boolean }).ended).toBe(true);

    // The next click needs the API: the app shows "session ended" on the page the person wanted.
    const target = eu.reports.days[0]!.date;
    await page.getByTestId('next-day').click();
    await waitForTestId(page, 'session-expired');
    expect(new URL(page.url()).pathname).toBe(`/reports/${target}`);
    await browser.screenshot('09-session-expired-en');

    await signIn(browser, eu);
    expect(new URL(page.url()).pathname).toBe(`/reports/${target}`);
    await waitForTestId(page, 'day-totals');
    expect(await metricValue(page, 'total-movements')).toBe(integerIn('en', eu.reports.days[0]!.movements));
  }, 150_000);
});

describe('one person, one set of reports', () => {
  test("a person cannot open another person's report URL or CDN link", async () => {
    const browser = await browserFor('ru-RU');
    const { page } = browser;
    await page.goto(apps.appUrl);
    await signIn(browser, ru);
    await waitForTestId(page, 'summary');

    const day = eu.reports.days[0]!.date;
    const answers = await page.evaluate(
      async ({ other, otherRef, day }) => {
        const get = async (path: string) => {
          const response = await fetch(path, { credentials: 'same-origin' });
          return { status: response.status, body: await response.text() };
        };
        const ownLink = (await (await fetch('/api/reports/cdn/summary')).json()) as { url: string; key: string };
        const owner = ownLink.key.split('/')[0]!;
        const forged = ownLink.url.replace(`/reports/${owner}/`, `/reports/${otherRef}/`);
        const cdnForged = await fetch(forged, { credentials: 'omit' });
        return {
          owner,
          adminList: await get(`/api/admin/users/${other}/reports`),
          adminDay: await get(`/api/admin/users/${other}/reports/${day}`),
          // Identity comes from the session, never from the request: these still answer for the signed-in person.
          summaryWithUser: await get(`/api/reports/summary?user_id=${other}&user=${other}`),
          cdnForged: cdnForged.status,
          cdnOwn: (await fetch(ownLink.url, { credentials: 'omit' })).status,
        };
      },
      { other: eu.person.uid, otherRef: eu.reports.ownerRef, day },
    );
    expect(answers.owner).toBe(ru.reports.ownerRef);
    expect(answers.adminList.status).toBe(403);
    expect(answers.adminDay.status).toBe(403);
    expect(answers.summaryWithUser.status).toBe(200);
    expect((JSON.parse(answers.summaryWithUser.body) as { user_id: string }).user_id).toBe(ru.reports.ownerRef);
    expect(answers.summaryWithUser.body).not.toContain(eu.person.uid);
    expect(answers.summaryWithUser.body).not.toContain(eu.reports.ownerRef);
    expect(answers.cdnOwn).toBe(200);
    expect(answers.cdnForged).toBe(403);

    // The app's admin pages are closed to a prosthesis owner; nothing of the other person loads.
    await page.goto(`${apps.appUrl}/admin/users/${eu.person.uid}/reports/${day}`);
    await waitForTestId(page, 'admin-only');
    await browser.settled();
    expect(browser.responses.filter((r) => r.body?.includes(eu.person.uid) && !r.url.includes(eu.person.uid))).toEqual([]);
    await browser.screenshot('10-not-an-administrator-ru');
  }, 150_000);
});
