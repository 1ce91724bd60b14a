import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { loginThroughBff, type TestBrowser } from '../helpers/keycloak-login.ts';
import { APP_ORIGIN, BFF_ORIGIN, createTestBff, LOGIN_TIMEOUT_MS, type TestBff } from '../edge/support.ts';
import { addRegionalPerson, type OperatorTestPerson } from './crm-people.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';

// The operator API as the browser reaches it: real sign-ins through the BFF (password + TOTP),
// session cookie only, the BFF's /api proxy passing If-Match and ETag to and from core (built
// in-process here, on the real CRM database).
let core: CoreHarness;
let bff: TestBff;
let ruOperator: OperatorTestPerson;
let euOperator: OperatorTestPerson;
let ru: TestBrowser;
let eu: TestBrowser;
const customerIds: string[] = [];

async function signIn(person: OperatorTestPerson): Promise<TestBrowser> {
  const browser = bff.browser();
  await loginThroughBff({ bffUrl: BFF_ORIGIN, username: person.uid, password: person.password, env: core.env, browser });
  return browser;
}

async function api(browser: TestBrowser, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await browser.fetch(`${BFF_ORIGIN}${path}`, {
    method,
    headers: { origin: APP_ORIGIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, etag: response.headers.get('etag'), body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  core = createCoreHarness();
  bff = await createTestBff({
    env: { CORE_URL: 'http://core.in-process' },
    runtime: { fetchUpstream: (url, init) => core.app.fetch(new Request(url, init)) as Promise<Response> },
  });
  [ruOperator, euOperator] = await Promise.all([addRegionalPerson(core.env, 'ru', ['crm_operator'], 'crmbff'), addRegionalPerson(core.env, 'eu', ['crm_operator'], 'crmbff')]);
  [ru, eu] = await Promise.all([signIn(ruOperator), signIn(euOperator)]);
}, LOGIN_TIMEOUT_MS * 2);

afterAll(async () => {
  if (customerIds.length > 0 && core) {
    const owner = postgres(core.env.CRM_DATABASE_URL!, { max: 1, onnotice: () => undefined });
    await owner`delete from crm.audit_log where entity_id in ${owner(customerIds)}`;
    await owner`delete from crm.customers where id in ${owner(customerIds)}`;
    await owner.end();
  }
  await Promise.allSettled([ruOperator?.remove(), euOperator?.remove()]);
  await bff?.close();
  await core?.close();
}, 60_000);

describe('crm through the BFF', () => {
  test('an RU operator creates and edits a customer with If-Match; the EU operator cannot see it', async () => {
    const username = `crm.bff.${randomUUID().slice(0, 8)}`;
    const created = await api(ru, 'POST', '/api/crm/customers', { username, full_name: 'Через Прокси', email: `${username}@example.org` });
    expect(created.status).toBe(201);
    customerIds.push(created.body.id);
    expect(created.body.region).toBe('ru');
    expect(created.etag).toBe(created.body.etag);

    const edited = await api(ru, 'PATCH', `/api/crm/customers/${created.body.id}`, { full_name: 'Через Прокси Два' }, { 'if-match': created.etag! });
    expect(edited.status).toBe(200);
    const lost = await api(ru, 'PATCH', `/api/crm/customers/${created.body.id}`, { full_name: 'Потерянная Правка' }, { 'if-match': created.etag! });
    expect(lost.status).toBe(412);

    expect((await api(eu, 'GET', `/api/crm/customers/${created.body.id}`)).status).toBe(404);
    expect((await api(eu, 'GET', `/api/crm/customers?q=${encodeURIComponent(username)}`)).body).toMatchObject({ items: [], total: 0 });
    expect((await api(ru, 'GET', `/api/crm/customers?q=${encodeURIComponent(username)}`)).body.items.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
  }, LOGIN_TIMEOUT_MS);
});
