import { afterAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { buildCrmDataset } from '../../demo/crm-data.ts';
import { createOwnerRefs } from '../../common/identity/owner-ref.ts';
import { fillMissingOwnerRefs, loadCrm } from '../../demo/load-crm.ts';
import { loadTelemetry } from '../../demo/load-telemetry.ts';
import { forEachTelemetryRow } from '../../demo/telemetry-data.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Loads a small generated dataset twice into the stack's CRM and telemetry databases and checks
// that the second load changes nothing. The dataset uses its own synthetic usernames (so its own
// chip ids) and is deleted at the end; the shared prosthesis models are left as they are.
const env = loadStackEnv();
const owners = await createOwnerRefs(env.OWNER_REF_KEY!);
const crm = postgres(env.CRM_DATABASE_URL!, { max: 2, onnotice: () => {} });
const telemetry = postgres(env.TELEMETRY_DATABASE_URL!, { max: 2, onnotice: () => {} });
const prefix = `test.gen${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const data = buildCrmDataset({ seed: 1234, customers: 5, before: new Date('2024-06-01T00:00:00Z'), syntheticOnly: true, usernamePrefix: prefix });
const chips = data.prostheses.map((p) => ({ chipId: p.chipId, region: p.region }));
const chipIds = chips.map((c) => c.chipId);
const window = { seed: 1234, eventsPerHour: 6, chips, fromMs: Date.parse('2024-06-29T00:00:00Z'), toMs: Date.parse('2024-07-02T00:00:00Z') };

async function crmCounts() {
  const [row] = await crm`select
    (select count(*)::int from crm.customers where username like ${`${prefix}.%`}) as customers,
    (select count(*)::int from crm.prostheses where chip_id = any(${chipIds})) as prostheses,
    (select count(*)::int from crm.orders o join crm.customers c on c.id = o.customer_id where c.username like ${`${prefix}.%`}) as orders,
    (select max(updated_at) from crm.customers where username like ${`${prefix}.%`}) as last_update`;
  return row!;
}

afterAll(async () => {
  const ids = (await crm`select id from crm.customers where username like ${`${prefix}.%`}`).map((r) => r.id);
  await crm`delete from crm.orders where customer_id = any(${ids}::uuid[])`;
  await crm`delete from crm.prostheses where customer_id = any(${ids}::uuid[])`;
  await crm`delete from crm.customers where id = any(${ids}::uuid[])`;
  await telemetry`delete from raw_telemetry where chip_id = any(${chipIds}) and event_time >= ${new Date(window.fromMs)} and event_time < ${new Date(window.toMs)}`;
  await crm.end();
  await telemetry.end();
});

describe('demo data load', () => {
  test('CRM: a second load inserts and updates nothing', async () => {
    const first = await loadCrm(crm, data, owners);
    expect(first.customers).toEqual({ inserted: 5, updated: 0, unchanged: 0 });
    expect(first.prostheses.inserted).toBe(data.prostheses.length);
    expect(first.orders.inserted).toBe(data.orders.length);
    const before = await crmCounts();
    expect(before.customers).toBe(5);
    expect(before.prostheses).toBe(data.prostheses.length);
    expect(before.orders).toBe(data.orders.length);

    const second = await loadCrm(crm, data, owners);
    for (const table of ['models', 'customers', 'prostheses', 'orders'] as const) {
      expect({ table, inserted: second[table].inserted, updated: second[table].updated }).toEqual({ table, inserted: 0, updated: 0 });
    }
    const after = await crmCounts();
    expect(after).toEqual(before);
  });

  test('CRM: every customer carries the owner ref of their username; a missing one is filled in', async () => {
    const stored = await crm<{ username: string; owner_ref: string | null }[]>`
      select username, owner_ref from crm.customers where username like ${`${prefix}.%`} order by username`;
    expect(stored.length).toBe(5);
    for (const row of stored) expect(row.owner_ref).toBe(await owners.of(row.username));

    const victim = stored[0]!;
    await crm`update crm.customers set owner_ref = null where username = ${victim.username}`;
    expect(await fillMissingOwnerRefs(crm, owners)).toBeGreaterThanOrEqual(1);
    const [row] = await crm<{ owner_ref: string }[]>`select owner_ref from crm.customers where username = ${victim.username}`;
    expect(row!.owner_ref).toBe(victim.owner_ref!);
  });

  test('CRM: a changed attribute is updated in place', async () => {
    const changed = { ...data, customers: data.customers.map((c, i) => (i === 0 ? { ...c, phone: '+49 000 0000000' } : c)) };
    const result = await loadCrm(crm, changed, owners);
    expect(result.customers).toEqual({ inserted: 0, updated: 1, unchanged: 4 });
    const [row] = await crm`select phone from crm.customers where username = ${data.customers[0]!.username}`;
    expect(row!.phone).toBe('+49 000 0000000');
    expect((await crmCounts()).customers).toBe(5);
  });

  test('telemetry: loading the same window twice stores each event once', async () => {
    let expected = 0;
    forEachTelemetryRow(window, () => expected++);
    expect(expected).toBe(chips.length * 3 * 24 * 6);

    const first = await loadTelemetry(telemetry, { ...window, batchRows: 500 });
    expect(first).toMatchObject({ generated: expected, inserted: expected, skipped: 0 });
    const count = async () => (await telemetry`select count(*)::int as n from raw_telemetry where chip_id = any(${chipIds})`)[0]!.n;
    expect(await count()).toBe(expected);

    const second = await loadTelemetry(telemetry, { ...window, batchRows: 500 });
    expect(second).toMatchObject({ generated: expected, inserted: 0, skipped: expected });
    expect(await count()).toBe(expected);
  });

  test('telemetry: the stored rows are the generated ones', async () => {
    const generated = new Map<string, number>();
    forEachTelemetryRow(window, (r) => generated.set(r.eventId, r.movements));
    const stored = await telemetry`select event_id, movements, event_time from raw_telemetry where chip_id = any(${chipIds}) order by event_time limit 50`;
    for (const row of stored) expect(generated.get(row.event_id)).toBe(row.movements);
  });
});
