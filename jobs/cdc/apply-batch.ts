import type { ClickHouseClient } from '@clickhouse/client';
import { chSql, chTuple, chUuid, type ChFragment } from '../../db/clickhouse/sql.ts';
import { isClickHouseDataError } from '../../db/clickhouse/errors.ts';
import { errorMessage } from '../retry.ts';
import { newestPerRow, type Change, type Poison } from './decode-change.ts';

export interface ApplyResult {
  /** Changes now stored (after keeping the newest per row). */
  applied: Change[];
  /** Older changes of a row whose newer change in the same batch was stored: their state is superseded, not lost. */
  superseded: Change[];
  /** Changes ClickHouse refused as data: dead-letter them, retrying cannot help. */
  rejected: Poison[];
  /** Owner refs whose cached reports may now be wrong (customer or prosthesis changed). */
  affectedUsers: Set<string>;
}

async function rows<T>(client: ClickHouseClient, query: { text: string }): Promise<T[]> {
  const result = await client.query({ query: query.text, format: 'JSONEachRow' });
  return result.json<T>();
}

/** The lookups, exported so tests can run the exact SQL on a current engine (chdb). */
export const ownerQueries = {
  /** Last live owner ref per customer id (a delete's row, or a customer without a ref yet, has '' and is skipped). */
  ownerRefs: (ids: readonly string[]): ChFragment =>
    chSql`SELECT id, argMaxIf(owner_ref, _version, _deleted = 0) AS owner_ref FROM crm_customers WHERE id IN ${chTuple(ids.map(chUuid))} GROUP BY id`,
  /** Last live owner per prosthesis id. */
  owners: (ids: readonly string[]): ChFragment =>
    chSql`SELECT id, argMaxIf(customer_id, _version, _deleted = 0) AS customer_id FROM crm_prostheses WHERE id IN ${chTuple(ids.map(chUuid))} GROUP BY id`,
};

async function ownerRefsById(client: ClickHouseClient, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const found = await rows<{ id: string; owner_ref: string }>(client, ownerQueries.ownerRefs(ids));
  return new Map(found.filter((row) => row.owner_ref !== '').map((row) => [row.id, row.owner_ref]));
}

/** Owner (customer id) of each prosthesis as stored now, i.e. before this batch. */
async function ownersByProsthesis(client: ClickHouseClient, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const found = await rows<{ id: string; customer_id: string }>(client, ownerQueries.owners(ids));
  return new Map(found.filter((row) => row.customer_id !== '00000000-0000-0000-0000-000000000000').map((row) => [row.id, row.customer_id]));
}

/**
 * Who must have their reports invalidated: for a customer change, the owner ref before and after;
 * for a prosthesis change, its owner before and after (a reassignment touches both). Read before
 * the insert, since afterwards a delete hides the old values. Snapshot reads (`r`) change nothing
 * a cached report could have shown, so they are skipped.
 */
async function usersTouchedBy(client: ClickHouseClient, changes: readonly Change[]): Promise<Set<string>> {
  const live = changes.filter((change) => change.op !== 'r');
  const customerChanges = live.filter((change) => change.table.name === 'customers');
  const prosthesisChanges = live.filter((change) => change.table.name === 'prostheses');
  const users = new Set<string>();
  if (customerChanges.length === 0 && prosthesisChanges.length === 0) return users;

  const previousOwners = await ownersByProsthesis(client, prosthesisChanges.map((change) => change.id));
  const newOwners = prosthesisChanges.map((change) => change.after?.customer_id).filter((id): id is string => typeof id === 'string');
  const customerIds = new Set([...customerChanges.map((change) => change.id), ...previousOwners.values(), ...newOwners.map((id) => id.toLowerCase())]);
  const usernames = await ownerRefsById(client, [...customerIds]);

  for (const change of customerChanges) {
    const before = usernames.get(change.id);
    if (before) users.add(before);
    if (typeof change.after?.owner_ref === 'string' && change.after.owner_ref !== '') users.add(change.after.owner_ref);
  }
  for (const change of prosthesisChanges) {
    const before = previousOwners.get(change.id);
    if (before && usernames.has(before)) users.add(usernames.get(before)!);
    const after = typeof change.after?.customer_id === 'string' ? usernames.get(change.after.customer_id.toLowerCase()) : undefined;
    if (after) users.add(after);
  }
  return users;
}

const rowKey = (change: Change) => `${change.table.name}:${change.id}`;

/**
 * Stores a batch of change events in the CDC tables, one insert per table. The version is the
 * change's LSN, so ReplacingMergeTree keeps the newest whatever order copies arrive in, and a
 * redelivered event is harmless. A data error (ClickHouse cannot parse a row) is narrowed down
 * row by row and only the bad rows are rejected; any other failure is thrown for a retry.
 */
export async function applyCdcBatch(client: ClickHouseClient, changes: readonly Change[], nowMs: number): Promise<ApplyResult> {
  const newest = newestPerRow(changes);
  const affectedUsers = await usersTouchedBy(client, newest);
  const syncedAt = Math.floor(nowMs / 1000);
  const byTable = new Map<string, Change[]>();
  for (const change of newest) {
    const list = byTable.get(change.table.clickhouseTable) ?? [];
    list.push(change);
    byTable.set(change.table.clickhouseTable, list);
  }
  const applied: Change[] = [];
  const rejected: Poison[] = [];
  // 18.16 fills omitted JSONEachRow fields with the type's zero, not the column DEFAULT, so
  // _synced_at is always sent. The two ms columns let core tell an operator how long a change took
  // from the CRM commit to ClickHouse (core/crm/replication.ts); _synced_at has second precision.
  const toRow = (change: Change) => ({ ...change.row, _synced_at: syncedAt, _source_ts_ms: change.sourceTsMs, _ingested_ms: Math.floor(nowMs) });
  for (const [table, tableChanges] of byTable) {
    try {
      await client.insert({ table, values: tableChanges.map(toRow), format: 'JSONEachRow' });
      applied.push(...tableChanges);
    } catch (error) {
      if (!isClickHouseDataError(error)) throw error;
      for (const change of tableChanges) {
        try {
          await client.insert({ table, values: [toRow(change)], format: 'JSONEachRow' });
          applied.push(change);
        } catch (rowError) {
          if (!isClickHouseDataError(rowError)) throw rowError;
          rejected.push({ kind: 'poison', message: change.message, reason: 'rejected_by_clickhouse', detail: errorMessage(rowError).slice(0, 500) });
        }
      }
    }
  }
  const newestSet = new Set(newest);
  const appliedRows = new Set(applied.map(rowKey));
  const superseded = changes.filter((change) => !newestSet.has(change) && appliedRows.has(rowKey(change)));
  return { applied, superseded, rejected, affectedUsers };
}
