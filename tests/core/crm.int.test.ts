import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';
import { createTestPerson, type TestPerson } from './support/keycloak-people.ts';
import { addRegionalPerson, type OperatorTestPerson } from './crm-people.ts';
import { callCrm, insertTestModel, removeTestCrmRows } from './support/crm-rows.ts';

// The CRM operator API over HTTP (app.request) against the real CRM PostgreSQL, with real
// Keycloak tokens of temporary LDAP people: an operator in each directory and a prosthesis owner.
let core: CoreHarness;
let crm: postgres.Sql;
let ruOperator: OperatorTestPerson;
let euOperator: OperatorTestPerson;
let owner: TestPerson;
let ruToken: string;
let euToken: string;
let modelId: string;
const tag = randomUUID().slice(0, 8);
const customerIds = new Set<string>();

type Json = Record<string, any>;

async function call(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const answer = await callCrm(core, token, method, path, body, headers);
  if (answer.status < 300 && answer.body.customer?.id) customerIds.add(answer.body.customer.id);
  return answer;
}

async function createCustomer(token: string, name: string) {
  const username = `crm.${tag}.${randomUUID().slice(0, 6)}`;
  const created = await call(token, 'POST', '/api/crm/customers', { username, full_name: name, email: `${username}@example.org`, phone: '+7 495 000-00-00' });
  expect(created.status).toBe(201);
  customerIds.add(created.body.id);
  return created.body as Json;
}

async function auditOf(entityId: string) {
  return crm<{ action: string; actor: string; actor_region: string; before: Json | null; after: Json | null; request_id: string | null }[]>`
    select action, actor, actor_region, before, after, request_id from crm.audit_log where entity_id = ${entityId} order by id`;
}

beforeAll(async () => {
  core = createCoreHarness();
  crm = postgres(core.env.CRM_DATABASE_URL!, { max: 2, onnotice: () => undefined });
  modelId = await insertTestModel(crm, `CRM Test ${tag}`);
  [ruOperator, euOperator, owner] = await Promise.all([
    addRegionalPerson(core.env, 'ru', ['crm_operator']),
    addRegionalPerson(core.env, 'eu', ['crm_operator']),
    createTestPerson(core.env, ['prothetic_user'], 'crmowner'),
  ]);
  [ruToken, euToken] = await Promise.all([ruOperator.accessToken(), euOperator.accessToken()]);
}, 240_000);

afterAll(async () => {
  if (crm) {
    await removeTestCrmRows(crm, [...customerIds], modelId);
    await crm.end();
  }
  await Promise.allSettled([ruOperator?.remove(), euOperator?.remove(), owner?.remove()]);
  await core?.close();
}, 120_000);

describe('crm.happy', () => {
  test('create, view, search and edit a customer; each change audited with before/after', async () => {
    const created = await createCustomer(ruToken, `Пётр Тестов ${tag}`);
    expect(created).toMatchObject({ region: 'ru', full_name: `Пётр Тестов ${tag}`, phone: '+7 495 000-00-00' });

    const viewed = await call(ruToken, 'GET', `/api/crm/customers/${created.id}`);
    expect(viewed.status).toBe(200);
    expect(viewed.etag).toBe(created.etag);
    expect(viewed.body).toMatchObject({ customer: { id: created.id }, prostheses: [], orders: [] });

    for (const q of [`тестов ${tag}`, created.email.slice(4, 14).toUpperCase()]) {
      const found = await call(ruToken, 'GET', `/api/crm/customers?q=${encodeURIComponent(q)}&limit=5`);
      expect(found.status).toBe(200);
      expect(found.body.items.map((c: Json) => c.id)).toContain(created.id);
      expect(found.body.total).toBeGreaterThanOrEqual(1);
    }
    // The fragment is literal: % matches only a % in the data.
    const wildcard = await call(ruToken, 'GET', `/api/crm/customers?q=${encodeURIComponent(`%${tag}`)}`);
    expect(wildcard.body.items.map((c: Json) => c.id)).not.toContain(created.id);

    const edited = await call(ruToken, 'PATCH', `/api/crm/customers/${created.id}`, { email: `new.${tag}@example.org`, phone: null }, { 'if-match': viewed.etag! });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ email: `new.${tag}@example.org`, phone: null, full_name: created.full_name, username: created.username });
    expect(edited.etag).not.toBe(created.etag);

    const audit = await auditOf(created.id);
    expect(audit.map((a) => a.action)).toEqual(['customer.create', 'customer.update']);
    expect(audit[0]).toMatchObject({ actor: ruOperator.uid, actor_region: 'ru', before: null, after: { email: created.email } });
    expect(audit[1]!.before).toMatchObject({ email: created.email, phone: '+7 495 000-00-00' });
    expect(audit[1]!.after).toMatchObject({ email: `new.${tag}@example.org`, phone: null });
    expect(audit[1]!.request_id).toBeTruthy();
  });

  test('a created customer carries the owner ref of their username; an edit fills a missing one; case-variants of a username are taken', async () => {
    const created = await createCustomer(ruToken, `Owner Ref ${tag}`);
    const refOf = async (id: string) => (await crm<{ owner_ref: string | null }[]>`select owner_ref from crm.customers where id = ${id}`)[0]!.owner_ref;
    const expected = await core.deps.owners.refOf(created.username);
    expect(expected).toMatch(/^[a-z2-7]{32}$/);
    expect(await refOf(created.id)).toBe(expected);

    // A row from before CRM migration 003 (or written by hand) has none: its first edit gives it.
    await crm`update crm.customers set owner_ref = null where id = ${created.id}`;
    const viewed = await call(ruToken, 'GET', `/api/crm/customers/${created.id}`);
    const edited = await call(ruToken, 'PATCH', `/api/crm/customers/${created.id}`, { full_name: `Owner Ref Edited ${tag}` }, { 'if-match': viewed.etag! });
    expect(edited.status).toBe(200);
    expect(await refOf(created.id)).toBe(expected);

    // Same person for the directory (uids are case-insensitive), so the same ref: refused as taken.
    const twin = await call(ruToken, 'POST', '/api/crm/customers', { username: created.username.toUpperCase(), full_name: 'Twin', email: `twin.${tag}@example.org` });
    expect(twin.status).toBe(409);
    expect(twin.body.error.details).toMatchObject({ field: 'username' });
  });

  test('register a prosthesis with model and chip, then reassign it: assignment history and audit follow', async () => {
    const first = await createCustomer(ruToken, `Первый Владелец ${tag}`);
    const second = await createCustomer(ruToken, `Второй Владелец ${tag}`);
    const chipId = `CHIP-CRM-${tag}`;
    const registered = await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: chipId, serial_number: `SN-${tag}`, model_id: modelId, customer_id: first.id });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ chip_id: chipId, customer_id: first.id, model_id: modelId, status: 'active' });

    const again = await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: chipId, serial_number: `SN2-${tag}`, model_id: modelId, customer_id: first.id });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toMatchObject({ field: 'chip_id' });

    const moved = await call(ruToken, 'PUT', `/api/crm/prostheses/${registered.body.id}/customer`, { customer_id: second.id }, { 'if-match': registered.etag! });
    expect(moved.status).toBe(200);
    expect(moved.body.customer_id).toBe(second.id);

    const history = await crm<{ customer_id: string; valid_from: Date }[]>`
      select customer_id::text, valid_from from crm.prosthesis_assignments where prosthesis_id = ${registered.body.id} order by valid_from, id`;
    expect(history.map((h) => h.customer_id)).toEqual([first.id, second.id]);
    expect(history[1]!.valid_from.getTime()).toBeGreaterThanOrEqual(history[0]!.valid_from.getTime());

    const audit = await auditOf(registered.body.id);
    expect(audit.map((a) => a.action)).toEqual(['prosthesis.register', 'prosthesis.reassign']);
    expect(audit[1]!.before).toMatchObject({ customer_id: first.id });
    expect(audit[1]!.after).toMatchObject({ customer_id: second.id });

    const secondView = await call(ruToken, 'GET', `/api/crm/customers/${second.id}`);
    expect(secondView.body.prostheses.map((p: Json) => p.chip_id)).toEqual([chipId]);
  });

  test('an order walks new → confirmed → manufacturing → fitted → closed, offering only the allowed next statuses', async () => {
    const customer = await createCustomer(ruToken, `Заказчик ${tag}`);
    const created = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: modelId, amount: '125000.50', currency: 'RUB' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'new', amount: '125000.50', currency: 'RUB', next_statuses: ['confirmed', 'cancelled'] });

    let etag = created.etag!;
    for (const status of ['confirmed', 'manufacturing', 'fitted', 'closed']) {
      const moved = await call(ruToken, 'PUT', `/api/crm/orders/${created.body.id}/status`, { status }, { 'if-match': etag });
      expect(moved.status).toBe(200);
      expect(moved.body.status).toBe(status);
      etag = moved.etag!;
    }
    const closed = await call(ruToken, 'GET', `/api/crm/orders/${created.body.id}`);
    expect(closed.body).toMatchObject({ status: 'closed', next_statuses: [] });

    const audit = await auditOf(created.body.id);
    expect(audit.map((a) => `${a.before?.status ?? '-'}>${a.after?.status}`)).toEqual(['->new', 'new>confirmed', 'confirmed>manufacturing', 'manufacturing>fitted', 'fitted>closed']);

    const other = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: modelId, amount: 99, currency: 'RUB' });
    const cancelled = await call(ruToken, 'PUT', `/api/crm/orders/${other.body.id}/status`, { status: 'cancelled' }, { 'if-match': other.etag! });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', amount: '99.00', next_statuses: [] });
  });

  test('the API description lists the CRM operations', async () => {
    const response = await core.request('/openapi.json', { token: ruToken });
    const document = (await response.json()) as { paths: Record<string, unknown> };
    for (const path of ['/api/crm/customers', '/api/crm/customers/{id}', '/api/crm/prostheses', '/api/crm/prostheses/{id}/customer', '/api/crm/orders', '/api/crm/orders/{id}/status']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
  });
});

describe('crm.error', () => {
  test('a lost update is refused with 412 and changes nothing; an update without If-Match is 428', async () => {
    const customer = await createCustomer(ruToken, `Гонка ${tag}`);
    const first = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, { full_name: 'Первая Правка' }, { 'if-match': customer.etag });
    expect(first.status).toBe(200);
    const lost = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, { full_name: 'Вторая Правка' }, { 'if-match': customer.etag });
    expect(lost.status).toBe(412);
    expect(lost.body.error).toMatchObject({ code: 'precondition_failed', details: { reason: 'stale_version', current_etag: first.etag } });
    expect(lost.etag).toBe(first.etag);

    const missing = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, { full_name: 'Без Версии' });
    expect(missing.status).toBe(428);
    expect(missing.body.error.code).toBe('precondition_required');
    const star = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, { full_name: 'Звёздочка' }, { 'if-match': '*' });
    expect(star.status).toBe(428);

    const now = await call(ruToken, 'GET', `/api/crm/customers/${customer.id}`);
    expect(now.body.customer.full_name).toBe('Первая Правка');
    expect((await auditOf(customer.id)).map((a) => a.action)).toEqual(['customer.create', 'customer.update']);
  });

  test('two updates from the same version at once: exactly one wins, the other is 412 (row locked for the check)', async () => {
    const customer = await createCustomer(ruToken, `Одновременно ${tag}`);
    const order = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: modelId, amount: '1', currency: 'RUB' });
    const results = await Promise.all(
      ['confirmed', 'cancelled', 'confirmed', 'cancelled'].map((status) => call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status }, { 'if-match': order.etag! })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = results.find((r) => r.status === 200)!;
    expect((await call(ruToken, 'GET', `/api/crm/orders/${order.body.id}`)).body.status).toBe(winner.body.status);
    expect((await auditOf(order.body.id)).map((a) => a.action)).toEqual(['order.create', 'order.status']);
  });

  test('a transition outside the workflow is 422 naming the allowed ones, and is not audited', async () => {
    const customer = await createCustomer(ruToken, `Переход ${tag}`);
    const order = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: modelId, amount: '10', currency: 'RUB' });
    const skip = await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'fitted' }, { 'if-match': order.etag! });
    expect(skip.status).toBe(422);
    expect(skip.body.error).toMatchObject({ code: 'unprocessable', details: { reason: 'transition_not_allowed', from: 'new', to: 'fitted', allowed: ['confirmed', 'cancelled'] } });
    expect(skip.body.error.message).toContain('confirmed or cancelled');

    const cancelled = await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'cancelled' }, { 'if-match': order.etag! });
    const revive = await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'new' }, { 'if-match': cancelled.etag! });
    expect(revive.status).toBe(422);
    expect(revive.body.error.details.allowed).toEqual([]);
    const unknown = await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'shipped' }, { 'if-match': cancelled.etag! });
    expect(unknown.status).toBe(422);
    expect((await auditOf(order.body.id)).map((a) => a.after?.status)).toEqual(['new', 'cancelled']);
  });

  test('bad fields are 422 naming each field', async () => {
    const bad = await call(ruToken, 'POST', '/api/crm/customers', { username: 'has space', full_name: '', email: 'nope', region: 'eu' });
    expect(bad.status).toBe(422);
    const paths = (bad.body.error.details as Array<{ path: string; message: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['username', 'full_name', 'email']));
    expect(JSON.stringify(bad.body.error.details)).toContain('region');

    const customer = await createCustomer(ruToken, `Поля ${tag}`);
    const empty = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, {}, { 'if-match': customer.etag });
    expect(empty.status).toBe(422);
    const username = await call(ruToken, 'PATCH', `/api/crm/customers/${customer.id}`, { username: 'other' }, { 'if-match': customer.etag });
    expect(username.status).toBe(422);

    const order = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: modelId, amount: '-5', currency: 'rub' });
    expect(order.status).toBe(422);
    expect((order.body.error.details as Array<{ path: string }>).map((d) => d.path).sort()).toEqual(['amount', 'currency']);
    const model = await call(ruToken, 'POST', '/api/crm/orders', { customer_id: customer.id, model_id: randomUUID(), amount: '5', currency: 'RUB' });
    expect(model.status).toBe(422);
    expect(model.body.error.details).toEqual([{ path: 'model_id', message: 'no such model' }]);
    const chip = await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: 'x/y', serial_number: 'S', model_id: modelId, customer_id: customer.id });
    expect(chip.status).toBe(422);

    const notUuid = await call(ruToken, 'GET', '/api/crm/customers/not-a-uuid');
    expect(notUuid.status).toBe(400);
    expect((await auditOf(customer.id)).map((a) => a.action)).toEqual(['customer.create']);
  });
});

describe('crm.security', () => {
  test('an operator of another region gets 404 for the customer, its prosthesis and orders, and any id', async () => {
    const eu = await createCustomer(euToken, `Lena Regional ${tag}`);
    expect(eu.region).toBe('eu');
    const prosthesis = await call(euToken, 'POST', '/api/crm/prostheses', { chip_id: `CHIP-EU-${tag}`, serial_number: `SNEU-${tag}`, model_id: modelId, customer_id: eu.id });
    const order = await call(euToken, 'POST', '/api/crm/orders', { customer_id: eu.id, model_id: modelId, amount: '10', currency: 'EUR' });
    expect([prosthesis.status, order.status]).toEqual([201, 201]);
    const ru = await createCustomer(ruToken, `Региональный ${tag}`);

    const absent = await call(ruToken, 'GET', `/api/crm/customers/${randomUUID()}`);
    expect(absent.status).toBe(404);
    const attempts = [
      await call(ruToken, 'GET', `/api/crm/customers/${eu.id}`),
      await call(ruToken, 'PATCH', `/api/crm/customers/${eu.id}`, { full_name: 'Hijack' }, { 'if-match': eu.etag }),
      await call(ruToken, 'GET', `/api/crm/prostheses/${prosthesis.body.id}`),
      await call(ruToken, 'PUT', `/api/crm/prostheses/${prosthesis.body.id}/customer`, { customer_id: ru.id }, { 'if-match': prosthesis.etag! }),
      await call(ruToken, 'GET', `/api/crm/orders/${order.body.id}`),
      await call(ruToken, 'PUT', `/api/crm/orders/${order.body.id}/status`, { status: 'confirmed' }, { 'if-match': order.etag! }),
      await call(ruToken, 'POST', '/api/crm/orders', { customer_id: eu.id, model_id: modelId, amount: '1', currency: 'EUR' }),
      await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: `CHIP-X-${tag}`, serial_number: `SNX-${tag}`, model_id: modelId, customer_id: eu.id }),
    ];
    expect(attempts.map((a) => a.status)).toEqual(attempts.map(() => 404));
    for (const attempt of attempts.slice(0, 2)) expect(attempt.body.error.message).toBe(absent.body.error.message);
    const search = await call(ruToken, 'GET', `/api/crm/customers?q=${encodeURIComponent(`Lena Regional ${tag}`)}`);
    expect(search.body).toMatchObject({ items: [], total: 0 });

    // Nor may an operator pull a prosthesis of their region to another region's customer.
    const ruProsthesis = await call(ruToken, 'POST', '/api/crm/prostheses', { chip_id: `CHIP-RU-${tag}`, serial_number: `SNRU-${tag}`, model_id: modelId, customer_id: ru.id });
    const across = await call(ruToken, 'PUT', `/api/crm/prostheses/${ruProsthesis.body.id}/customer`, { customer_id: eu.id }, { 'if-match': ruProsthesis.etag! });
    expect(across.status).toBe(404);

    const untouched = await call(euToken, 'GET', `/api/crm/customers/${eu.id}`);
    expect(untouched.body).toMatchObject({ customer: { full_name: eu.full_name, etag: eu.etag }, orders: [{ status: 'new' }], prostheses: [{ customer_id: eu.id }] });
    expect((await auditOf(eu.id)).map((a) => a.actor)).toEqual([euOperator.uid]);
  });

  test('a prosthesis owner gets 403 and no token gets 401', async () => {
    const token = await owner.accessToken();
    for (const [method, path] of [['GET', '/api/crm/customers'], ['POST', '/api/crm/customers'], ['GET', `/api/crm/orders/${randomUUID()}`]] as const) {
      const response = await call(token, method, path, method === 'POST' ? {} : undefined);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('forbidden');
    }
    const anonymous = await core.request('/api/crm/customers');
    expect(anonymous.status).toBe(401);
  });
});
