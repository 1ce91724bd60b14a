import type postgres from 'postgres';
import type { CoreHarness } from './harness.ts';

/** Shared set-up of the CRM integration tests: calls to core's CRM API, and rows made in CRM PostgreSQL directly. */

export interface CrmAnswer {
  status: number;
  etag: string | null;
  body: Record<string, any>;
}

/** One call to core's API with an operator's token; a body is sent as JSON. */
export async function callCrm(core: CoreHarness, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CrmAnswer> {
  const response = await core.request(path, {
    method,
    token,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, etag: response.headers.get('etag'), body: (await response.json()) as Record<string, any> };
}

/** A prosthesis model of the test's own (the API has no route to add one); returns its id. */
export async function insertTestModel(crm: postgres.Sql, name: string): Promise<string> {
  const [model] = await crm<{ id: string }[]>`
    insert into crm.prosthesis_models (name, manufacturer, kind, actuator_count, battery_capacity_mah, weight_g)
    values (${name}, 'Test Works', 'hand', 6, 2000, 450) returning id::text`;
  return model!.id;
}

/** Removes the test's customers with their prostheses, orders, assignments and audit rows, then its model. */
export async function removeTestCrmRows(crm: postgres.Sql, customerIds: readonly string[], modelId: string | undefined): Promise<void> {
  if (customerIds.length > 0) {
    const ids = [...customerIds];
    const prostheses = await crm<{ id: string }[]>`select id::text from crm.prostheses where customer_id in ${crm(ids)}`;
    const orders = await crm<{ id: string }[]>`select id::text from crm.orders where customer_id in ${crm(ids)}`;
    const entities = [...ids, ...prostheses.map((p) => p.id), ...orders.map((o) => o.id)];
    await crm`delete from crm.audit_log where entity_id in ${crm(entities)}`;
    await crm`delete from crm.orders where customer_id in ${crm(ids)}`;
    await crm`delete from crm.prostheses where customer_id in ${crm(ids)}`;
    await crm`delete from crm.prosthesis_assignments where customer_id in ${crm(ids)}`;
    await crm`delete from crm.customers where id in ${crm(ids)}`;
  }
  if (modelId) await crm`delete from crm.prosthesis_models where id = ${modelId}`;
}
