import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { chIdentifier, chSql, chUuid } from '../../db/clickhouse/sql.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createCdcHarness } from '../jobs/support/cdc-harness.ts';
import { createScratchClickHouse, type ScratchClickHouse } from '../jobs/support/scratch-stores.ts';
import { waitForTestId } from './support/app-pages.ts';
import { startApps, type RunningApps } from './support/apps.ts';
import { closeBrowsers, openBrowser, type E2eBrowser } from './support/browser.ts';
import { sweepLeftovers } from './support/leftovers.ts';
import { signInFresh } from './support/sign-in.ts';
import { createE2ePerson, type E2ePerson } from './support/people.ts';

/**
 * The CRM operator's pages (issue 11). An RU operator on a 390 px phone finds an RU customer,
 * creates an order and advances it one allowed step at a time; a change made elsewhere meanwhile
 * is caught (412 → "changed by someone else", reload, save); then edits the customer's phone. An EU operator searching for the same
 * customer finds nobody, and the customer's address answers "not found". The customer is a row
 * seeded straight into the CRM (and removed with everything the test wrote about them).
 *
 * "…and sees it replicated": after the order is created and after the phone edit, the page's
 * replication indicator must say "В отчётах через N мс." and N must be the lag ClickHouse holds
 * for that record (CRM commit → row written by the CDC consumer), not a number the page made up.
 * No jobs process runs in the test suite, so the real CDC consumer runs here (its own group,
 * starting at the topics' ends) into a scratch ClickHouse database built by the real migrations,
 * and core reads that database.
 */

const env = loadStackEnv();
const keycloakOrigin = new URL(env.KEYCLOAK_URL!).origin;
const crm = postgres(env.CRM_DATABASE_URL!, { max: 1, onnotice: () => undefined });
const tag = randomBytes(3).toString('hex');
const surname = `Тестова${tag}`;
let apps: RunningApps;
let ruOperator: E2ePerson;
let euOperator: E2ePerson;
let customerId: string;
const browsers: E2eBrowser[] = [];
let clickhouse: ScratchClickHouse;
let cdc: ReturnType<typeof createCdcHarness>;

beforeAll(async () => {
  clickhouse = await createScratchClickHouse(env, 'e2e_crm_operator');
  cdc = createCdcHarness(env, clickhouse);
  await cdc.startAtEnd();
  await cdc.start();
  apps = await startApps({ ...env, CLICKHOUSE_DATABASE: clickhouse.database });
  await sweepLeftovers(env);
  ruOperator = await createE2ePerson(env, { region: 'ru', label: 'crmop', givenName: 'Мария', surname: 'Операторова', roles: ['crm_operator'] });
  euOperator = await createE2ePerson(env, { region: 'eu', label: 'crmop', givenName: 'Lucas', surname: 'Operator', roles: ['crm_operator'] });
  const [row] = await crm<{ id: string }[]>`
    insert into crm.customers (username, region, full_name, email, phone)
    values (${`e2e.customer.${tag}`}, 'ru', ${`Анна ${surname}`}, ${`e2e.customer.${tag}@ru.customers.example`}, '+7 900 000-00-00')
    returning id`;
  customerId = row!.id;
}, 120_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await closeBrowsers();
  if (customerId) {
    await crm`delete from crm.audit_log where customer_id = ${customerId}`.catch((error) => console.warn('e2e cleanup (audit):', error));
    await crm`delete from crm.orders where customer_id = ${customerId}`.catch((error) => console.warn('e2e cleanup (orders):', error));
    await crm`delete from crm.customers where id = ${customerId}`.catch((error) => console.warn('e2e cleanup (customer):', error));
  }
  await crm.end();
  for (const person of [ruOperator, euOperator]) await person?.remove().catch((error) => console.warn(`e2e cleanup (${person.uid}):`, error));
  await apps?.stop();
  await cdc?.close();
  await clickhouse?.drop();
}, 120_000);

/**
 * Waits for the page's indicator to say the latest save reached the reports (it polls core for up
 * to 10 s); returns the lag it shows. Absent, still waiting or "not in reports yet": the test fails.
 */
async function replicatedLagShown(browser: E2eBrowser): Promise<number> {
  const indicator = browser.page.locator('[data-testid="replication-status"][data-state="replicated"]');
  await indicator.waitFor({ timeout: 15_000 });
  const text = (await indicator.innerText()).trim();
  const match = /^В отчётах через (\d+) мс\.$/.exec(text);
  expect({ text, matches: match !== null }).toEqual({ text, matches: true });
  return Number(match![1]);
}

/** The lag ClickHouse holds for the record's newest replicated change (_ingested_ms − _source_ts_ms). */
async function latestLagInClickHouse(table: 'crm_orders' | 'crm_customers', id: string): Promise<number | undefined> {
  const result = await clickhouse.client.query({
    query: chSql`SELECT toString(toInt64(_ingested_ms) - toInt64(_source_ts_ms)) AS lag_ms FROM ${chIdentifier(table)} WHERE id = ${chUuid(id)} AND _ingested_ms > 0 ORDER BY _source_ts_ms DESC LIMIT 1`.text,
    format: 'JSONEachRow',
  });
  const [newest] = (await result.json()) as Array<{ lag_ms: string }>;
  return newest === undefined ? undefined : Number(newest.lag_ms);
}

const noSidewaysScroll = (browser: E2eBrowser) => browser.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('an RU operator finds an RU customer, creates an order and advances it; a concurrent change is caught', async () => {
  const browser = await openBrowser({ locale: 'ru-RU', viewport: { width: 390, height: 844 }, isMobile: true });
  browsers.push(browser);
  const { page } = browser;
  await signInFresh(browser, ruOperator, { appUrl: apps.appUrl, keycloakOrigin }, '/');
  await page.getByRole('navigation').getByRole('link', { name: 'Оператор' }).click();
  await waitForTestId(page, 'crm-search');

  await page.getByTestId('crm-search').fill(surname);
  await page.getByTestId('crm-search').press('Enter');
  await page.waitForURL((url) => url.searchParams.get('q') === surname);
  const result = page.getByTestId('crm-results').getByRole('link', { name: `Анна ${surname}` });
  await result.waitFor();
  expect(await page.getByTestId('crm-results').getByRole('listitem').count()).toBe(1);
  expect(await noSidewaysScroll(browser)).toBeLessThanOrEqual(0);
  await browser.screenshot('20-operator-search-phone-ru');
  await result.click();
  await page.waitForURL(`${apps.appUrl}/operator/customers/${customerId}`);
  await page.getByRole('heading', { level: 1, name: `Анна ${surname}` }).waitFor();

  // A new order: the form refuses a bad amount before sending anything, then creates it.
  await page.getByTestId('new-order').locator('summary').click();
  const model = await page.locator('#order_model option').nth(1).getAttribute('value');
  await page.locator('#order_model').selectOption(model!);
  await page.locator('#amount').fill('12,5');
  await page.getByTestId('create-order').click();
  await page.locator('#amount-error').waitFor();
  expect(await page.locator('#currency').inputValue()).toBe('RUB');
  await page.locator('#amount').fill('125000.00');
  await page.getByTestId('create-order').click();
  await page.waitForURL(/\/operator\/orders\/[0-9a-f-]{36}$/);
  const orderId = new URL(page.url()).pathname.split('/').at(-1)!;
  expect(await page.getByTestId('order-current-status').innerText()).toBe('Новый');
  // The new order reached ClickHouse, and the page says after how long: ClickHouse's own figure.
  const orderLagMs = await replicatedLagShown(browser);
  const orderLag = await latestLagInClickHouse('crm_orders', orderId);
  console.log(`order ${orderId}: indicator "${orderLagMs} ms", ClickHouse's newest row ${orderLag} ms`);
  expect(orderLagMs).toBe(orderLag!);
  await browser.screenshot('21a-operator-order-replicated-phone-ru');

  // Only the allowed next statuses are offered; each save moves one step.
  const offered = async () => (await page.getByTestId('status-form').getByRole('radio').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value))).sort();
  expect(await offered()).toEqual(['cancelled', 'confirmed']);
  await page.getByTestId('status-save').click();
  await page.getByTestId('status-saved').waitFor();
  expect(await page.getByTestId('order-current-status').innerText()).toBe('Подтверждён');
  expect(await offered()).toEqual(['cancelled', 'manufacturing']);
  await page.getByTestId('status-manufacturing').check();
  await page.getByTestId('status-save').click();
  await page.getByTestId('order-current-status').filter({ hasText: 'В производстве' }).waitFor();
  expect(await noSidewaysScroll(browser)).toBeLessThanOrEqual(0);
  await browser.screenshot('21-operator-order-phone-ru');

  // Someone else changes the order after this page read it: the save is refused, nothing is lost.
  await crm`update crm.orders set amount = amount where id = ${orderId}`;
  await page.getByTestId('status-save').click();
  await page.getByTestId('stale').waitFor();
  await browser.screenshot('22-operator-stale-phone-ru');
  await page.getByTestId('stale').getByRole('button').click();
  await page.getByTestId('stale').waitFor({ state: 'detached' });
  await page.getByTestId('status-save').click();
  await page.getByTestId('order-current-status').filter({ hasText: 'Установлен' }).waitFor();

  const [stored] = await crm<{ status: string }[]>`select status from crm.orders where id = ${orderId}`;
  expect(stored!.status).toBe('fitted');
  const audit = await crm<{ action: string; actor: string }[]>`select action, actor from crm.audit_log where entity_id = ${orderId} order by at, id`;
  expect(audit.map((row) => row.action)).toEqual(['order.create', 'order.status', 'order.status', 'order.status']);
  expect(new Set(audit.map((row) => row.actor))).toEqual(new Set([ruOperator.uid]));

  // The customer's page lists the order with its status.
  await page.getByRole('link', { name: /К клиенту/ }).click();
  await page.getByTestId('orders').getByTestId('order-status').filter({ hasText: 'Установлен' }).waitFor();
  expect(await noSidewaysScroll(browser)).toBeLessThanOrEqual(0);
  await browser.screenshot('24-operator-customer-phone-ru');

  // An edit sends the version read (If-Match) and only the changed field.
  await page.locator('#phone').fill('+7 900 111-22-33');
  await page.getByTestId('customer-save').click();
  await page.getByTestId('customer-note').filter({ hasText: 'Сохранено.' }).waitFor();
  const [edited] = await crm<{ phone: string; full_name: string }[]>`select phone, full_name from crm.customers where id = ${customerId}`;
  expect(edited).toEqual({ phone: '+7 900 111-22-33', full_name: `Анна ${surname}` });
  const customerLagMs = await replicatedLagShown(browser);
  const customerLag = await latestLagInClickHouse('crm_customers', customerId);
  console.log(`customer ${customerId}: indicator "${customerLagMs} ms", ClickHouse's newest row ${customerLag} ms`);
  expect(customerLagMs).toBe(customerLag!);
  const [edit] = await crm<{ before: { phone: string }; after: { phone: string } }[]>`select before, after from crm.audit_log where entity_id = ${customerId} and action = 'customer.update'`;
  expect([edit!.before.phone, edit!.after.phone]).toEqual(['+7 900 000-00-00', '+7 900 111-22-33']);
}, 180_000);

test('an EU operator cannot find the RU customer, nor open their page', async () => {
  const browser = await openBrowser({ locale: 'en-GB' });
  browsers.push(browser);
  const { page } = browser;
  await signInFresh(browser, euOperator, { appUrl: apps.appUrl, keycloakOrigin }, `/operator?q=${encodeURIComponent(surname)}`);
  expect(new URL(page.url()).pathname).toBe('/operator');
  await waitForTestId(page, 'crm-no-results');
  await browser.screenshot('23-operator-search-en');
  await page.goto(`${apps.appUrl}/operator/customers/${customerId}`);
  await waitForTestId(page, 'crm-not-found');
  expect(await page.getByText(`Анна ${surname}`).count()).toBe(0);
}, 150_000);
