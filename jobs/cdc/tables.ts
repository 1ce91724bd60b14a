import { z } from 'zod';
import { OWNER_REF_PATTERN } from '../../common/identity/owner-ref.ts';

/**
 * The replicated CRM tables: topic, ClickHouse table, and how a Debezium row image (see
 * docs/cdc-events.md) becomes a ClickHouse row. Values are validated here, so a malformed event
 * is refused as poison before it reaches an insert.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid = z.string().regex(UUID, 'not a UUID').transform((value) => value.toLowerCase());

// DateTime is a UInt32 of seconds since the epoch.
const DATETIME_MAX_SECONDS = 2 ** 32 - 1;

/** Debezium's ZonedTimestamp (ISO-8601, UTC, µs) → DateTime seconds, truncated like ClickHouse would. */
const timestamp = z.string().transform((value, ctx) => {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : Number.NaN;
  const seconds = Math.floor(ms / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > DATETIME_MAX_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp in DateTime's range: ${value.slice(0, 40)}` });
    return z.NEVER;
  }
  return seconds;
});

const uint = (max: number) => z.number().int().min(0).max(max);

/** The same ZonedTimestamp in whole ms, for times the ETL compares with event times (valid_from). */
const timestampMs = z.string().transform((value, ctx) => {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms / 1000 > DATETIME_MAX_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp in DateTime's range: ${value.slice(0, 40)}` });
    return z.NEVER;
  }
  return Math.floor(ms);
});

/**
 * A bigint identity key: Debezium sends int64 as a JSON number. Kept as decimal text (ids are
 * compared and keyed as strings; ClickHouse parses a quoted UInt64 in JSONEachRow, as _version).
 */
const bigintId = z.union([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,15}$/, 'not a bigint id')]).transform((value) => String(value));

/**
 * numeric(12,2) arrives as an exact decimal string (decimal.handling.mode=string). 18.16 does not
 * parse a quoted Decimal in JSONEachRow, so it is sent as a JSON number: with at most 12
 * significant digits the shortest double representation JSON.stringify prints is exactly the
 * original decimal text, so nothing is rounded on the way.
 */
const decimal12_2 = z
  .string()
  .regex(/^-?\d{1,10}(\.\d{1,2})?$/, 'not a numeric(12,2)')
  .transform((value) => Number(value));

const text = z.string();

export const CDC_TABLE_NAMES = ['customers', 'prosthesis_models', 'prostheses', 'orders', 'prosthesis_assignments'] as const;
export type CdcTableName = (typeof CDC_TABLE_NAMES)[number];

export interface CdcTable {
  name: CdcTableName;
  /** ClickHouse table (in the configured database). */
  clickhouseTable: string;
  /** Validates an `after` image and converts it to the ClickHouse row (without _version/_deleted). */
  row: z.ZodType<Record<string, unknown> & { id: string }>;
  /** Validates a key's or a delete's `id` and gives its canonical text (a lower-case UUID by default). */
  id: z.ZodType<string, unknown>;
}

/**
 * No username, full_name, email or phone: the connector excludes them (column.exclude.list) so they
 * never leave the CRM. z.object strips unknown keys, so an event still carrying them (one written
 * before the exclusion) is stored without them rather than refused. owner_ref is the pseudonymous
 * report owner (CRM migration 003, docs/data-model.md "Report owner ref"); a customer the key holders
 * have not given one yet (NULL, or an event from before the column) is stored with '' and the ETL
 * waits for it.
 */
const ownerRef = z
  .string()
  .regex(OWNER_REF_PATTERN, 'not an owner ref')
  .nullish()
  .transform((value) => value ?? '');

const customers = z.object({
  id: uuid,
  owner_ref: ownerRef,
  region: text,
  created_at: timestamp,
  updated_at: timestamp,
});

const prosthesisModels = z.object({
  id: uuid,
  name: text,
  manufacturer: text,
  kind: text,
  actuator_count: uint(65_535),
  battery_capacity_mah: uint(DATETIME_MAX_SECONDS),
  weight_g: uint(DATETIME_MAX_SECONDS),
  created_at: timestamp,
  updated_at: timestamp,
});

const prostheses = z.object({
  id: uuid,
  chip_id: text,
  customer_id: uuid,
  model_id: uuid,
  serial_number: text,
  fitted_at: timestamp,
  status: text,
  created_at: timestamp,
  updated_at: timestamp,
});

const orders = z.object({
  id: uuid,
  customer_id: uuid,
  model_id: uuid,
  status: text,
  amount: decimal12_2,
  currency: text,
  ordered_at: timestamp,
  created_at: timestamp,
  updated_at: timestamp,
});

/**
 * Who owned a prosthesis from when (written by a CRM trigger on every (re)assignment). valid_from
 * goes in twice: DateTime for people and queries, ms for the ETL's split of an hour.
 */
const prosthesisAssignments = z
  .object({
    id: bigintId,
    prosthesis_id: uuid,
    customer_id: uuid,
    valid_from: timestampMs,
    created_at: timestamp,
  })
  .transform((row) => ({ ...row, valid_from: Math.floor(row.valid_from / 1000), valid_from_ms: row.valid_from }));

export const CDC_TABLES: Record<CdcTableName, CdcTable> = {
  customers: { name: 'customers', clickhouseTable: 'crm_customers', row: customers, id: uuid },
  prosthesis_models: { name: 'prosthesis_models', clickhouseTable: 'crm_prosthesis_models', row: prosthesisModels, id: uuid },
  prostheses: { name: 'prostheses', clickhouseTable: 'crm_prostheses', row: prostheses, id: uuid },
  orders: { name: 'orders', clickhouseTable: 'crm_orders', row: orders, id: uuid },
  prosthesis_assignments: { name: 'prosthesis_assignments', clickhouseTable: 'crm_prosthesis_assignments', row: prosthesisAssignments, id: bigintId },
};

/** Debezium names topics `<prefix>.<schema>.<table>`; the CRM tables live in schema `crm`. */
export function cdcTopic(prefix: string, table: CdcTableName): string {
  return `${prefix}.crm.${table}`;
}

export function cdcTopics(prefix: string): string[] {
  return CDC_TABLE_NAMES.map((table) => cdcTopic(prefix, table));
}

/** topic → table, for the consumer's decoder. */
export function tablesByTopic(prefix: string): Map<string, CdcTable> {
  return new Map(CDC_TABLE_NAMES.map((table) => [cdcTopic(prefix, table), CDC_TABLES[table]]));
}

/**
 * The stored assignment changes that can move loaded hours: creates and updates of
 * prosthesis_assignments. Snapshot reads re-state history the replica already had (a re-snapshot
 * must not recompute the whole mart; hours loaded before the history was replicated are fixed by a
 * backfill, docs/jobs.md); a delete goes with its prosthesis, whose chip then has no owner at all.
 */
export function assignmentChanges(changes: ReadonlyArray<{ table: CdcTable; op: string; row: Record<string, unknown> }>): { prosthesisId: string; validFromMs: number }[] {
  return changes
    .filter((change) => change.table.name === 'prosthesis_assignments' && (change.op === 'c' || change.op === 'u'))
    .map((change) => ({ prosthesisId: String(change.row.prosthesis_id), validFromMs: Number(change.row.valid_from_ms) }));
}
