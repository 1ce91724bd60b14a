import postgres, { type Sql, type TransactionSql } from 'postgres';
import { reconnectBackoffSeconds } from '../../common/postgres-backoff.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { isTransientNetworkError } from '../../common/transient-errors.ts';
import { DependencyUnavailable } from '../dependency.ts';
import type { Operator } from './operator.ts';

/** The CRM database as the operator API uses it: a pool, one transaction per change. */
export interface CrmStore {
  sql: Sql;
  close(): Promise<void>;
}

export function createCrmStore(url: string, options: { poolSize: number }): CrmStore {
  const sql = postgres(url, {
    max: options.poolSize,
    connect_timeout: 5,
    backoff: reconnectBackoffSeconds,
    idle_timeout: 60,
    onnotice: () => undefined,
    connection: { application_name: 'reports-core-crm' },
  });
  return { sql, close: () => sql.end({ timeout: 5 }) };
}

export function requireCrm(store: CrmStore | undefined): CrmStore {
  if (!store) throw new DependencyUnavailable('crm', new Error('CRM_CORE_DATABASE_URL is not configured'));
  return store;
}

export interface AuditEntry {
  action: string;
  entity: 'customer' | 'prosthesis' | 'order';
  entityId: string;
  customerId: string | null;
  /** The record as the API shows it, stored as jsonb; null (or a lookup's undefined) where there is none. */
  before: postgres.JSONValue | undefined;
  after: postgres.JSONValue | undefined;
}

/** Written inside the transaction of the change it describes: both land, or neither does. */
export async function writeAudit(tx: TransactionSql, operator: Operator, entry: AuditEntry): Promise<void> {
  await tx`
    insert into crm.audit_log (actor, actor_region, action, entity, entity_id, customer_id, before, after, request_id)
    values (${operator.username}, ${operator.region}, ${entry.action}, ${entry.entity}, ${entry.entityId}, ${entry.customerId},
            ${entry.before == null ? null : tx.json(entry.before)}, ${entry.after == null ? null : tx.json(entry.after)},
            ${operator.requestId})`;
}

const CONSTRAINT_FIELDS: Record<string, string> = {
  customers_username_key: 'username',
  // Refs are case-insensitive in the username: taken means the same username in other letter case.
  customers_owner_ref_key: 'username',
  prostheses_chip_id_key: 'chip_id',
  prostheses_serial_number_key: 'serial_number',
};

/**
 * Runs a CRM statement or transaction and turns PostgreSQL's refusals into the envelope: a taken
 * unique key is 409 naming the field, a failed check or reference 422, an unreachable server 503.
 * The schemas validate first; these are the races and rules only the database can see.
 */
export async function runCrm<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (isTransientNetworkError(error)) throw new DependencyUnavailable('crm', error);
    const pg = error as { code?: string; constraint_name?: string };
    if (pg.code === '23505') {
      const field = CONSTRAINT_FIELDS[pg.constraint_name ?? ''] ?? pg.constraint_name;
      throw new ApiError({ code: ErrorCode.conflict, message: `Another record already has this ${field}`, details: { field, reason: 'taken' }, cause: error });
    }
    if (pg.code === '23514' || pg.code === '23503' || pg.code === '22P02' || pg.code === '22003') {
      throw new ApiError({ code: ErrorCode.unprocessable, message: 'The CRM refused the values', details: { constraint: pg.constraint_name, reason: 'constraint' }, cause: error });
    }
    throw error;
  }
}
