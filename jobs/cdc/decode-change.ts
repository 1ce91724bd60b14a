import { z } from 'zod';
import type { CdcTable } from './tables.ts';

/** A Kafka message as the consumer received it; key and value are the original bytes. */
export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Broker timestamp (ms since epoch, as kafkajs gives it). */
  timestamp?: string;
}

export type ChangeOp = 'c' | 'u' | 'd' | 'r';

export interface Change {
  kind: 'change';
  message: RawMessage;
  table: CdcTable;
  op: ChangeOp;
  id: string;
  /** source.lsn: grows with every later change of a row, so it is the ReplacingMergeTree version. */
  version: bigint;
  /** source.ts_ms: the commit time in the CRM. */
  sourceTsMs: number;
  /** The ClickHouse row, _version and _deleted included. */
  row: Record<string, unknown>;
  /** The after image's raw values a consumer may need beyond the row (e.g. customer_id). */
  after: Record<string, unknown> | null;
}

export type PoisonReason = 'unknown_topic' | 'bad_key' | 'not_json' | 'not_an_envelope' | 'unsupported_op' | 'invalid_row' | 'bad_version' | 'key_mismatch' | 'rejected_by_clickhouse';

export interface Poison {
  kind: 'poison';
  message: RawMessage;
  reason: PoisonReason;
  detail: string;
}

export interface Tombstone {
  kind: 'tombstone';
  message: RawMessage;
}

export type Decoded = Change | Poison | Tombstone;

const KeySchema = z.object({ id: z.union([z.string(), z.number()]) });

const EnvelopeSchema = z.object({
  op: z.string(),
  before: z.record(z.string(), z.unknown()).nullable().optional(),
  after: z.record(z.string(), z.unknown()).nullable().optional(),
  source: z.object({
    lsn: z.unknown(),
    ts_ms: z.number().int().nonnegative(),
  }),
});

const SUPPORTED_OPS = new Set<string>(['c', 'u', 'd', 'r']);

function poison(message: RawMessage, reason: PoisonReason, detail: string): Poison {
  return { kind: 'poison', message, reason, detail: detail.slice(0, 500) };
}

function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Turns one Debezium message into a change to store, a tombstone to acknowledge, or poison to
 * dead-letter (with the reason). Pure: no I/O, never throws.
 */
export function decodeChange(message: RawMessage, tables: ReadonlyMap<string, CdcTable>): Decoded {
  const table = tables.get(message.topic);
  if (!table) return poison(message, 'unknown_topic', `no CDC table for topic ${message.topic}`);
  // A null value after a delete is the tombstone kept for log compaction: nothing to write.
  if (message.value === null) return { kind: 'tombstone', message };

  if (message.key === null) return poison(message, 'bad_key', 'message has no key');
  const keyJson = parseJson(message.key);
  const key = keyJson.ok ? KeySchema.safeParse(keyJson.value) : undefined;
  if (!key?.success) return poison(message, 'bad_key', keyJson.ok ? 'key is not {"id": …}' : `key is not JSON: ${keyJson.error}`);
  // Canonical text of the key's id (a lower-case UUID; a bigint id as decimal text), compared below.
  const keyId = table.id.safeParse(key.data.id);
  if (!keyId.success) return poison(message, 'bad_key', `key id ${String(key.data.id).slice(0, 40)} is not a valid id of ${table.name}`);

  const valueJson = parseJson(message.value);
  if (!valueJson.ok) return poison(message, 'not_json', `value is not JSON: ${valueJson.error}`);
  const envelope = EnvelopeSchema.safeParse(valueJson.value);
  if (!envelope.success) return poison(message, 'not_an_envelope', describeIssues(envelope.error));
  const { op, before, after, source } = envelope.data;
  if (!SUPPORTED_OPS.has(op)) return poison(message, 'unsupported_op', `op "${op.slice(0, 10)}" is not c, u, d or r`);

  const lsn = source.lsn;
  if (typeof lsn !== 'number' || !Number.isSafeInteger(lsn) || lsn < 0) {
    return poison(message, 'bad_version', `source.lsn ${JSON.stringify(lsn)?.slice(0, 40)} is not a non-negative integer`);
  }
  const version = BigInt(lsn);

  if (op === 'd') {
    // With the default replica identity only the key of the old row is meaningful.
    const id = table.id.safeParse(before?.id);
    const validId = id.success ? id.data : undefined;
    if (!validId) return poison(message, 'invalid_row', `delete without a valid before.id of ${table.name}`);
    if (keyId.data !== validId) return poison(message, 'key_mismatch', `key id ${keyId.data} ≠ before.id ${validId}`);
    return {
      kind: 'change',
      message,
      table,
      op: 'd',
      id: validId,
      version,
      sourceTsMs: source.ts_ms,
      row: { id: validId, _version: version.toString(), _deleted: 1 },
      after: null,
    };
  }

  if (!after) return poison(message, 'invalid_row', `op ${op} without an after image`);
  const row = table.row.safeParse(after);
  if (!row.success) return poison(message, 'invalid_row', describeIssues(row.error));
  if (keyId.data !== row.data.id) return poison(message, 'key_mismatch', `key id ${keyId.data} ≠ after.id ${row.data.id}`);
  return {
    kind: 'change',
    message,
    table,
    op: op as ChangeOp,
    id: row.data.id,
    version,
    sourceTsMs: source.ts_ms,
    row: { ...row.data, _version: version.toString(), _deleted: 0 },
    after,
  };
}

/**
 * Orders two changes of the same row: by LSN, then commit time, then offset. Equal LSNs happen
 * only when the same event is delivered twice (at-least-once), and then either copy is right.
 */
export function isNewer(a: Change, b: Change): boolean {
  if (a.version !== b.version) return a.version > b.version;
  if (a.sourceTsMs !== b.sourceTsMs) return a.sourceTsMs > b.sourceTsMs;
  return BigInt(a.message.offset) > BigInt(b.message.offset);
}

/** Keeps the newest change per (table, id); fewer rows to insert, same final state. */
export function newestPerRow(changes: readonly Change[]): Change[] {
  const newest = new Map<string, Change>();
  for (const change of changes) {
    const key = `${change.table.name}:${change.id}`;
    const current = newest.get(key);
    if (!current || isNewer(change, current)) newest.set(key, change);
  }
  return [...newest.values()];
}
