import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { deriveDeviceSecret, signTelemetryBody } from '../../core/telemetry/device-signature.ts';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { chSql, chUuid } from '../../db/clickhouse/sql.ts';
import { loadJobsConfig } from '../../jobs/config.ts';
import { buildJobsDeps, type JobsDeps } from '../../jobs/deps.ts';
import { queueReassignedHours } from '../../jobs/etl/reassigned-hours.ts';
import type { EtlScope } from '../../jobs/etl/scope.ts';
import { runEtl } from '../../jobs/runs/etl-job.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createCdcHarness, eventually } from '../jobs/support/cdc-harness.ts';
import { createScratchClickHouse, type ScratchClickHouse } from '../jobs/support/scratch-stores.ts';
import { compact, waitForAppScreen } from './support/app-pages.ts';
import { startApps, type RunningApps } from './support/apps.ts';
import { closeBrowsers, openBrowser, type E2eBrowser } from './support/browser.ts';
import { clickAndWaitForNavigation, signInAtKeycloak } from './support/keycloak-pages.ts';
import { sweepLeftovers } from './support/leftovers.ts';
import { createE2ePerson, type E2ePerson } from './support/people.ts';

/**
 * Issue 11, "a reassignment shows in the right owner's reports after the next ETL run". An RU
 * operator moves a prosthesis from one owner to another in the operator pages; the device sends
 * telemetry before and after (signed, through core); the CDC consumer replicates the assignment
 * and the jobs ETL loads the hours; each owner, signed in, sees exactly the telemetry of their
 * time. Everything below the browser is real (CRM trigger, Debezium, Kafka, CDC consumer, ETL,
 * core with its S3 report cache and its invalidation), on a scratch ClickHouse database so the
 * shared mart is untouched; the ETL runs in this process with the jobs service's own dependencies
 * (`buildJobsDeps`), scoped to this test's chip so it neither reads other tests' telemetry nor
 * moves the shared watermark.
 */

const env = loadStackEnv();
const keycloakOrigin = new URL(env.KEYCLOAK_URL!).origin;
const crm = postgres(env.CRM_DATABASE_URL!, { max: 1, onnotice: () => undefined });
const tag = randomBytes(3).toString('hex');
const chip = `E2E-RA-${tag}`;
const HOUR_MS = 3_600_000;
let apps: RunningApps;
let clickhouse: ScratchClickHouse;
let cdc: ReturnType<typeof createCdcHarness>;
let jobs: JobsDeps;
let queries: ReturnType<typeof createClickHouseClient>;
let operator: E2ePerson;
let previousOwner: E2ePerson;
let nextOwner: E2ePerson;
const customerIds: string[] = [];
let modelId: string | undefined;
let prosthesisId: string;
const browsers: E2eBrowser[] = [];
const scope: EtlScope = { source: `e2e-reassign:${tag}`, telemetrySchema: 'public', chipIds: [chip] };

/**
 * A client on the scratch database over node:http, for this file's polling and the consumer: under
 * Bun, polling with the fetch transport's JSONEachRow reader (a WHATWG pipeThrough) every 20 ms
 * died here, often within a second, with Bun's internal "(function (pipeState) … undefined is not
 * a function", unhandled, failing the whole file; with node:http it passed.
 */
function consumerClickHouse() {
  return createClickHouseClient({ ...clickHouseConfigFromEnv(env, { database: clickhouse.database }), requestTimeoutMs: 60_000 }, 'node');
}

beforeAll(async () => {
  clickhouse = await createScratchClickHouse(env, 'e2e_reassign');
  jobs = buildJobsDeps(loadJobsConfig({ ...env, CLICKHOUSE_DATABASE: clickhouse.database, LOG_LEVEL: 'warn' }), { clickhouseTransport: 'node' });
  queries = consumerClickHouse();
  cdc = createCdcHarness(env, clickhouse);
  await cdc.startAtEnd();
  await cdc.start({
    clickhouse: consumerClickHouse(),
    onUsersAffected: async (users) => void (await jobs.invalidator.invalidate({ userIds: [...users] })),
    onAssignmentsChanged: async (changes) => void (await queueReassignedHours(jobs.telemetryDb, scope, clickhouse.client, changes)),
  });
  apps = await startApps({ ...env, CLICKHOUSE_DATABASE: clickhouse.database });
  await sweepLeftovers(env);
  operator = await createE2ePerson(env, { region: 'ru', label: 'raop', givenName: 'Ольга', surname: 'Операторова', roles: ['crm_operator'] });
  previousOwner = await createE2ePerson(env, { region: 'ru', label: 'raold', givenName: 'Пётр', surname: `Прежний${tag}`, roles: ['prothetic_user'] });
  nextOwner = await createE2ePerson(env, { region: 'ru', label: 'ranew', givenName: 'Нина', surname: `Новая${tag}`, roles: ['prothetic_user'] });

  // The two owners in the CRM (as the operator API would make them: with their report owner ref),
  // and the prosthesis, owned by the first since yesterday.
  const refs = await createOwnerRefs(env.OWNER_REF_KEY!);
  for (const person of [previousOwner, nextOwner]) {
    const [row] = await crm<{ id: string }[]>`
      insert into crm.customers (username, region, full_name, email, owner_ref)
      values (${person.uid}, 'ru', ${person.displayName}, ${person.email}, ${await refs.of(person.uid)}) returning id::text`;
    customerIds.push(row!.id);
  }
  const [model] = await crm<{ id: string }[]>`
    insert into crm.prosthesis_models (name, manufacturer, kind, actuator_count, battery_capacity_mah, weight_g)
    values (${`Reassign Hand ${tag}`}, 'Test Works', 'hand', 6, 2000, 450) returning id::text`;
  modelId = model!.id;
  const since = new Date(Date.now() - 24 * HOUR_MS);
  const [prosthesis] = await crm<{ id: string }[]>`
    insert into crm.prostheses (chip_id, customer_id, model_id, serial_number, fitted_at)
    values (${chip}, ${customerIds[0]!}, ${modelId}, ${`SN-${chip}`}, ${since}) returning id::text`;
  prosthesisId = prosthesis!.id;
  await crm`update crm.prosthesis_assignments set valid_from = ${since} where prosthesis_id = ${prosthesisId}`;
}, 180_000);

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await closeBrowsers();
  await cdc?.close();
  if (prosthesisId) await crm`delete from crm.prostheses where id = ${prosthesisId}`.catch((error) => console.warn('e2e cleanup (prosthesis):', error));
  if (customerIds.length > 0) {
    await crm`delete from crm.audit_log where entity_id in ${crm([...customerIds, ...(prosthesisId ? [prosthesisId] : [])])}`.catch((error) => console.warn('e2e cleanup (audit):', error));
    await crm`delete from crm.prosthesis_assignments where customer_id in ${crm(customerIds)}`.catch((error) => console.warn('e2e cleanup (assignments):', error));
    await crm`delete from crm.customers where id in ${crm(customerIds)}`.catch((error) => console.warn('e2e cleanup (customers):', error));
  }
  if (modelId) await crm`delete from crm.prosthesis_models where id = ${modelId}`.catch((error) => console.warn('e2e cleanup (model):', error));
  await crm.end();
  if (jobs) {
    await jobs.telemetryDb`delete from public.raw_telemetry where chip_id = ${chip}`.catch((error) => console.warn('e2e cleanup (telemetry):', error));
    await jobs.telemetryDb`delete from public.etl_deferred_hours where chip_id = ${chip}`.catch(() => undefined);
    await jobs.telemetryDb`delete from public.etl_watermarks where source = ${scope.source}`.catch(() => undefined);
    await jobs.close();
  }
  for (const person of [operator, previousOwner, nextOwner]) await person?.remove().catch((error) => console.warn(`e2e cleanup (${person.uid}):`, error));
  await apps?.stop();
  await queries?.close();
  await clickhouse?.drop();
}, 120_000);

/** The device's upload: signed with its chip secret, as every prosthesis does. */
async function sendTelemetry(events: Array<{ at: Date; movements: number }>): Promise<void> {
  const body = JSON.stringify({
    chip_id: chip,
    events: events.map((e) => ({
      event_id: randomUUID(),
      event_time: e.at.toISOString(),
      movements: e.movements,
      successful_movements: e.movements,
      response_time_ms: 90,
      battery_pct: 70,
      actuator_temp_c: 36.5,
      error_code: null,
      charging: false,
    })),
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = await signTelemetryBody(await deriveDeviceSecret(env.DEVICE_SECRET_KEY!, chip), chip, timestamp, body);
  const response = await fetch(`${apps.coreUrl}/api/telemetry`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(timestamp), 'x-signature': signature },
  });
  expect(response.status).toBeLessThan(300);
}

async function etlRun() {
  const result = await runEtl(jobs, scope, { ...jobs.etlSettings, settleSeconds: 0 }, { kind: 'incremental' });
  if (result.status !== 'succeeded') throw new Error(`ETL run ${result.status}: ${'run' in result ? result.run.error : ''}`);
  return result;
}

async function signIn(person: E2ePerson, path: string): Promise<E2eBrowser> {
  const browser = await openBrowser({ locale: 'en-GB' });
  browsers.push(browser);
  await browser.page.goto(`${apps.appUrl}${path}`);
  expect(await waitForAppScreen(browser.page)).toBe('signed-out');
  await person.ensureRoles();
  await clickAndWaitForNavigation(browser.page, '[data-testid="sign-in"]');
  await signInAtKeycloak(browser.page, { keycloakOrigin, username: person.uid, password: person.password });
  expect(await waitForAppScreen(browser.page)).toBe('signed-in');
  return browser;
}

/** Movements per UTC hour of a day as the app's hourly table shows them (hours with none left out). */
async function hourlyMovements(browser: E2eBrowser, date: string): Promise<Record<number, number>> {
  const { page } = browser;
  await page.goto(`${apps.appUrl}/reports/${date}`);
  const rows = page.getByTestId('hourly-table').locator('tbody tr');
  await rows.first().waitFor();
  const shown: Record<number, number> = {};
  for (let hour = 0; hour < 24; hour++) {
    const movements = Number(compact(await rows.nth(hour).locator('td').first().innerText()).replace(/\D/g, '') || '0');
    if (movements > 0) shown[hour] = movements;
  }
  return shown;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const hourOf = (ms: number) => new Date(ms).getUTCHours();

test('an operator reassigns a prosthesis; after the next ETL run each owner sees only the telemetry of their time', async () => {
  // Two hours ago the device was the previous owner's.
  const earlierMs = Math.floor((Date.now() - 2 * HOUR_MS) / HOUR_MS) * HOUR_MS + 10 * 60_000;
  await sendTelemetry([
    { at: new Date(earlierMs), movements: 11 },
    { at: new Date(earlierMs + 60_000), movements: 12 },
    { at: new Date(earlierMs + 120_000), movements: 13 },
  ]);
  await eventually('the prosthesis and both owners in the replica', async () => {
    const r = await queries.query({ query: chSql`SELECT count() AS n FROM crm_customers FINAL WHERE id IN (${chUuid(customerIds[0]!)}, ${chUuid(customerIds[1]!)}) AND owner_ref != ''`.text, format: 'JSONEachRow' });
    const p = await queries.query({ query: chSql`SELECT count() AS n FROM crm_prosthesis_assignments FINAL WHERE prosthesis_id = ${chUuid(prosthesisId)}`.text, format: 'JSONEachRow' });
    return Number((await r.json<{ n: string }>())[0]?.n) === 2 && Number((await p.json<{ n: string }>())[0]?.n) === 1 ? true : undefined;
  });
  await etlRun();

  // The next owner looks at their reports before the move: nothing yet (and core caches that).
  const next = await signIn(nextOwner, '/');
  await next.page.getByText('No reports yet').waitFor();
  expect(await next.page.locator('[data-testid^="day-2"]').count()).toBe(0);

  // The operator moves the prosthesis to the next owner in the operator pages.
  const desk = await signIn(operator, `/operator/customers/${customerIds[0]}`);
  const { page } = desk;
  await page.getByRole('heading', { level: 1, name: previousOwner.displayName }).waitFor();
  const row = page.getByTestId('prosthesis').filter({ hasText: chip });
  await row.getByRole('button', { name: 'Move to another customer' }).click();
  await row.getByRole('searchbox').fill(nextOwner.surname);
  await row.getByRole('button', { name: 'Search' }).click();
  await row.getByRole('radio', { name: new RegExp(nextOwner.displayName) }).check();
  await row.getByRole('button', { name: 'Move', exact: true }).click();
  await eventually('the prosthesis moved in the CRM', async () => {
    const [moved] = await crm<{ customer_id: string }[]>`select customer_id::text from crm.prostheses where id = ${prosthesisId}`;
    return moved?.customer_id === customerIds[1] ? true : undefined;
  });
  await desk.screenshot('25-operator-reassigned-en');
  const [assignment] = await crm<{ valid_from: Date }[]>`select valid_from from crm.prosthesis_assignments where prosthesis_id = ${prosthesisId} and customer_id = ${customerIds[1]!}`;
  const movedAtMs = assignment!.valid_from.getTime();
  await eventually('the new assignment in the replica', async () => {
    const r = await queries.query({ query: chSql`SELECT count() AS n FROM crm_prosthesis_assignments FINAL WHERE prosthesis_id = ${chUuid(prosthesisId)} AND customer_id = ${chUuid(customerIds[1]!)}`.text, format: 'JSONEachRow' });
    return Number((await r.json<{ n: string }>())[0]?.n) === 1 ? true : undefined;
  });

  // Telemetry after the move, then the next ETL run.
  const laterMs = Math.max(movedAtMs + 1_000, Date.now() - 5_000);
  await sendTelemetry([
    { at: new Date(laterMs), movements: 21 },
    { at: new Date(laterMs + 1_000), movements: 22 },
  ]);
  const run = await etlRun();
  // The run rewrote the next owner's hour, so it named them for invalidation (by owner ref).
  const [nextRef] = await crm<{ owner_ref: string }[]>`select owner_ref from crm.customers where id = ${customerIds[1]!}`;
  expect(run.affectedUsers).toContain(nextRef!.owner_ref);

  // The next owner's report shows the hour after the move (their cached "nothing" was dropped)…
  await next.page.goto(apps.appUrl);
  await next.page.getByTestId(`day-${dayOf(laterMs)}`).waitFor();
  expect(await hourlyMovements(next, dayOf(laterMs))).toEqual({ [hourOf(laterMs)]: 43 });
  await next.screenshot('26-reassigned-new-owner-day-en');

  // …and the previous owner's only the hours before it.
  const previous = await signIn(previousOwner, '/');
  await previous.page.getByTestId(`day-${dayOf(earlierMs)}`).waitFor();
  const before = await hourlyMovements(previous, dayOf(earlierMs));
  expect(before).toEqual({ [hourOf(earlierMs)]: 36 });
  if (dayOf(laterMs) !== dayOf(earlierMs)) expect(await hourlyMovements(previous, dayOf(laterMs))).toEqual({});
}, 300_000);
