import { z } from 'zod';

/**
 * The four replicated CRM tables: topic, ClickHouse table, and how a Debezium row image (see
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

export const CDC_TABLE_NAMES = ['customers', 'prosthesis_models', 'prostheses', 'orders'] as const;
export type CdcTableName = (typeof CDC_TABLE_NAMES)[number];

export interface CdcTable {
  name: CdcTableName;
  /** ClickHouse table (in the configured database). */
  clickhouseTable: string;
  /** Validates an `after` image and converts it to the ClickHouse row (without _version/_deleted). */
  row: z.ZodType<Record<string, unknown> & { id: string }>;
}

/**
 * No full_name, email or phone: the connector excludes them (column.exclude.list) so they never
 * leave the CRM. z.object strips unknown keys, so an event still carrying them (one written before
 * the exclusion) is stored without them rather than refused. username stays while the ETL and the
 * report cache key on it (docs/data-model.md, "Personal data").
 */
const customers = z.object({
  id: uuid,
  username: text,
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

export const CDC_TABLES: Record<CdcTableName, CdcTable> = {
  customers: { name: 'customers', clickhouseTable: 'crm_customers', row: customers },
  prosthesis_models: { name: 'prosthesis_models', clickhouseTable: 'crm_prosthesis_models', row: prosthesisModels },
  prostheses: { name: 'prostheses', clickhouseTable: 'crm_prostheses', row: prostheses },
  orders: { name: 'orders', clickhouseTable: 'crm_orders', row: orders },
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

export const UUID_PATTERN = UUID;
