/**
 * Upserts the demo CRM in one transaction, keyed by natural keys (username, manufacturer + name,
 * chip_id, order id). A row is rewritten only when a value differs, so a second run with the same
 * seed changes nothing — no new updated_at, no CDC event. Rows that already exist under another id
 * (a customer created by hand with a demo username) keep their id; references follow the real ids.
 */
import type postgres from 'postgres';
import type { OwnerRefs } from '../common/identity/owner-ref.ts';
import { fillOwnerRefs } from '../db/crm/owner-ref-fill.ts';
import type { CrmDataset } from './crm-data.ts';

export interface UpsertCount {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface CrmLoadResult {
  models: UpsertCount;
  customers: UpsertCount;
  prostheses: UpsertCount;
  orders: UpsertCount;
}

const CHUNK = 1000;

interface Inserted {
  inserted: boolean;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function tally(total: number, rows: readonly Inserted[]): UpsertCount {
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
}

/**
 * `owners` computes each customer's owner ref (CRM migration 003) with the stack's OWNER_REF_KEY,
 * the same key core holds, so the ETL's mart rows and core's lookups agree.
 */
export async function loadCrm(sql: postgres.Sql, data: CrmDataset, owners: OwnerRefs): Promise<CrmLoadResult> {
  return sql.begin(async (tx) => {
    // xmax = 0 only for a row this statement inserted; updated rows carry the updating xid.
    const modelRows: Inserted[] = [];
    for (const part of chunks(data.models)) {
      const values = part.map((m) => ({
        id: m.id,
        name: m.name,
        manufacturer: m.manufacturer,
        kind: m.kind,
        actuator_count: m.actuatorCount,
        battery_capacity_mah: m.batteryCapacityMah,
        weight_g: m.weightG,
      }));
      modelRows.push(
        ...((await tx`insert into crm.prosthesis_models ${tx(values)}
          on conflict (manufacturer, name) do update set kind = excluded.kind, actuator_count = excluded.actuator_count,
            battery_capacity_mah = excluded.battery_capacity_mah, weight_g = excluded.weight_g
          where (crm.prosthesis_models.kind, crm.prosthesis_models.actuator_count, crm.prosthesis_models.battery_capacity_mah, crm.prosthesis_models.weight_g)
            is distinct from (excluded.kind, excluded.actuator_count, excluded.battery_capacity_mah, excluded.weight_g)
          returning (xmax = 0) as inserted`) as unknown as Inserted[]),
      );
    }
    const modelIds = new Map<string, string>();
    for (const row of await tx`select id, manufacturer, name from crm.prosthesis_models`) modelIds.set(`${row.manufacturer}\n${row.name}`, row.id);
    const realModelId = new Map(data.models.map((m) => [m.id, modelIds.get(`${m.manufacturer}\n${m.name}`)!]));

    const customerRows: Inserted[] = [];
    const customerIds = new Map<string, string>();
    for (const part of chunks(data.customers)) {
      const refs = await Promise.all(part.map((c) => owners.of(c.username)));
      const values = part.map((c, i) => ({
        id: c.id,
        username: c.username,
        owner_ref: refs[i]!,
        region: c.region,
        full_name: c.fullName,
        email: c.email,
        phone: c.phone,
        created_at: c.createdAt,
      }));
      customerRows.push(
        ...((await tx`insert into crm.customers ${tx(values)}
          on conflict (username) do update set owner_ref = excluded.owner_ref, region = excluded.region, full_name = excluded.full_name, email = excluded.email, phone = excluded.phone
          where (crm.customers.owner_ref, crm.customers.region, crm.customers.full_name, crm.customers.email, crm.customers.phone)
            is distinct from (excluded.owner_ref, excluded.region, excluded.full_name, excluded.email, excluded.phone)
          returning (xmax = 0) as inserted`) as unknown as Inserted[]),
      );
      const usernames = part.map((c) => c.username);
      for (const row of await tx`select id, username from crm.customers where username = any(${usernames})`) customerIds.set(row.username, row.id);
    }
    const realCustomerId = new Map(data.customers.map((c) => [c.id, customerIds.get(c.username)!]));

    const prosthesisRows: Inserted[] = [];
    for (const part of chunks(data.prostheses)) {
      const values = part.map((p) => ({
        id: p.id,
        chip_id: p.chipId,
        customer_id: realCustomerId.get(p.customerId)!,
        model_id: realModelId.get(p.modelId)!,
        serial_number: p.serialNumber,
        fitted_at: p.fittedAt,
        status: p.status,
        created_at: p.createdAt,
      }));
      prosthesisRows.push(
        ...((await tx`insert into crm.prostheses ${tx(values)}
          on conflict (chip_id) do update set customer_id = excluded.customer_id, model_id = excluded.model_id,
            serial_number = excluded.serial_number, fitted_at = excluded.fitted_at, status = excluded.status
          where (crm.prostheses.customer_id, crm.prostheses.model_id, crm.prostheses.serial_number, crm.prostheses.fitted_at, crm.prostheses.status)
            is distinct from (excluded.customer_id, excluded.model_id, excluded.serial_number, excluded.fitted_at, excluded.status)
          returning (xmax = 0) as inserted`) as unknown as Inserted[]),
      );
    }

    const orderRows: Inserted[] = [];
    for (const part of chunks(data.orders)) {
      const values = part.map((o) => ({
        id: o.id,
        customer_id: realCustomerId.get(o.customerId)!,
        model_id: realModelId.get(o.modelId)!,
        status: o.status,
        amount: o.amount,
        currency: o.currency,
        ordered_at: o.orderedAt,
        created_at: o.orderedAt,
      }));
      orderRows.push(
        ...((await tx`insert into crm.orders ${tx(values)}
          on conflict (id) do update set customer_id = excluded.customer_id, model_id = excluded.model_id, status = excluded.status,
            amount = excluded.amount, currency = excluded.currency, ordered_at = excluded.ordered_at
          where (crm.orders.customer_id, crm.orders.model_id, crm.orders.status, crm.orders.amount, crm.orders.currency, crm.orders.ordered_at)
            is distinct from (excluded.customer_id, excluded.model_id, excluded.status, excluded.amount, excluded.currency, excluded.ordered_at)
          returning (xmax = 0) as inserted`) as unknown as Inserted[]),
      );
    }

    return {
      models: tally(data.models.length, modelRows),
      customers: tally(data.customers.length, customerRows),
      prostheses: tally(data.prostheses.length, prosthesisRows),
      orders: tally(data.orders.length, orderRows),
    };
  }) as Promise<CrmLoadResult>;
}

/**
 * Gives every other customer still without an owner ref theirs (rows from before CRM migration 003,
 * or inserted by hand), so an existing stack's people get reports again after the next ETL run.
 * Core's implementation (batched, past ref collisions), so both behave alike; returns how many
 * were filled.
 */
export async function fillMissingOwnerRefs(sql: postgres.Sql, owners: OwnerRefs): Promise<number> {
  return (await fillOwnerRefs(sql, (username) => owners.of(username))).filled;
}
