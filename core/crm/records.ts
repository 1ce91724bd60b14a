import type { Sql, TransactionSql } from 'postgres';
import { etagOf } from './etag.ts';
import type { Region } from './operator.ts';
import type { Customer, Order, OrderStatus, Prosthesis } from './schemas.ts';
import { nextOrderStatuses } from './order-workflow.ts';

/**
 * Reads of CRM rows as the API shows them, always through the operator's region: a prosthesis or
 * order is visible only through a customer of that region, so another region's ids look absent.
 */

type Db = Sql | TransactionSql;

const iso = (value: Date) => value.toISOString();

export interface CustomerRow {
  id: string;
  username: string;
  region: Region;
  full_name: string;
  email: string;
  phone: string | null;
  created_at: Date;
  updated_at: Date;
  version: string;
}

export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    username: row.username,
    region: row.region,
    full_name: row.full_name,
    email: row.email,
    phone: row.phone,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    etag: etagOf(row.version),
  };
}

export async function findCustomer(db: Db, region: Region, id: string, options: { lock?: boolean } = {}): Promise<Customer | undefined> {
  const lock = options.lock ? db`for update` : db``;
  const [row] = await db<CustomerRow[]>`
    select c.id::text, c.username, c.region, c.full_name, c.email, c.phone, c.created_at, c.updated_at,
           (extract(epoch from c.updated_at) * 1000000)::bigint::text as version
    from crm.customers c
    where c.id = ${id} and c.region = ${region}
    ${lock}`;
  return row ? toCustomer(row) : undefined;
}

interface ProsthesisRow {
  id: string;
  chip_id: string;
  serial_number: string;
  customer_id: string;
  model_id: string;
  model_name: string;
  status: Prosthesis['status'];
  fitted_at: Date;
  updated_at: Date;
  version: string;
}

function toProsthesis(row: ProsthesisRow): Prosthesis {
  return {
    id: row.id,
    chip_id: row.chip_id,
    serial_number: row.serial_number,
    customer_id: row.customer_id,
    model_id: row.model_id,
    model_name: row.model_name,
    status: row.status,
    fitted_at: iso(row.fitted_at),
    updated_at: iso(row.updated_at),
    etag: etagOf(row.version),
  };
}

/** A prosthesis of the region, by id or by owner; `lock` takes the row for an update. */
export async function findProstheses(db: Db, region: Region, where: { id?: string; customerId?: string }, options: { lock?: boolean } = {}): Promise<Prosthesis[]> {
  const filter = where.id ? db`p.id = ${where.id}` : db`p.customer_id = ${where.customerId!}`;
  const lock = options.lock ? db`for update of p` : db``;
  const rows = await db<ProsthesisRow[]>`
    select p.id::text, p.chip_id, p.serial_number, p.customer_id::text, p.model_id::text, m.name as model_name,
           p.status, p.fitted_at, p.updated_at,
           (extract(epoch from p.updated_at) * 1000000)::bigint::text as version
    from crm.prostheses p
    join crm.customers c on c.id = p.customer_id
    join crm.prosthesis_models m on m.id = p.model_id
    where ${filter} and c.region = ${region}
    order by p.fitted_at desc, p.id
    ${lock}`;
  return rows.map(toProsthesis);
}

interface OrderRow {
  id: string;
  customer_id: string;
  model_id: string;
  model_name: string;
  status: OrderStatus;
  amount: string;
  currency: string;
  ordered_at: Date;
  updated_at: Date;
  version: string;
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customer_id: row.customer_id,
    model_id: row.model_id,
    model_name: row.model_name,
    status: row.status,
    next_statuses: nextOrderStatuses(row.status),
    amount: row.amount,
    currency: row.currency,
    ordered_at: iso(row.ordered_at),
    updated_at: iso(row.updated_at),
    etag: etagOf(row.version),
  };
}

export async function findOrders(db: Db, region: Region, where: { id?: string; customerId?: string }, options: { lock?: boolean } = {}): Promise<Order[]> {
  const filter = where.id ? db`o.id = ${where.id}` : db`o.customer_id = ${where.customerId!}`;
  const lock = options.lock ? db`for update of o` : db``;
  const rows = await db<OrderRow[]>`
    select o.id::text, o.customer_id::text, o.model_id::text, m.name as model_name, o.status,
           o.amount::text, o.currency, o.ordered_at, o.updated_at,
           (extract(epoch from o.updated_at) * 1000000)::bigint::text as version
    from crm.orders o
    join crm.customers c on c.id = o.customer_id
    join crm.prosthesis_models m on m.id = o.model_id
    where ${filter} and c.region = ${region}
    order by o.ordered_at desc, o.id
    ${lock}`;
  return rows.map(toOrder);
}

export async function modelExists(db: Db, id: string): Promise<boolean> {
  const [row] = await db`select 1 from crm.prosthesis_models where id = ${id}`;
  return row !== undefined;
}
