import { describe, expect, test } from 'bun:test';
import { decodeChange, isNewer, newestPerRow, type Change, type RawMessage } from '../../jobs/cdc/decode-change.ts';
import { tablesByTopic } from '../../jobs/cdc/tables.ts';

const tables = tablesByTopic('crm');
const ID = '247b62a3-737c-4a07-80b7-3352cb2018f4';

function message(topic: string, key: unknown, value: unknown, offset = '7'): RawMessage {
  const bytes = (v: unknown) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
  return { topic, partition: 0, offset, key: bytes(key), value: bytes(value) };
}

// What the connector sends since column.exclude.list keeps usernames, names, e-mails and phones in
// the CRM: the pseudonymous owner ref instead (CRM migration 003).
const customer = {
  id: ID,
  owner_ref: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a',
  region: 'eu',
  created_at: '2026-11-25T08:38:27.295334Z',
  updated_at: '2026-11-25T08:38:28.999999Z',
};

function envelope(op: string, after: unknown, before: unknown = null, lsn: unknown = 27359536, tsMs = 1795595907296) {
  return { before, after, source: { lsn, ts_ms: tsMs, table: 'customers' }, op, ts_ms: tsMs + 500 };
}

describe('decodeChange', () => {
  test('a create becomes a ClickHouse row versioned by the LSN, timestamps in whole seconds', () => {
    const decoded = decodeChange(message('crm.crm.customers', { id: ID }, envelope('c', customer)), tables);
    expect(decoded.kind).toBe('change');
    const change = decoded as Change;
    expect(change.op).toBe('c');
    expect(change.version).toBe(27359536n);
    expect(change.row).toEqual({
      ...customer,
      created_at: Math.floor(Date.parse(customer.created_at) / 1000),
      updated_at: Math.floor(Date.parse(customer.updated_at) / 1000),
      _version: '27359536',
      _deleted: 0,
    });
  });

  test('a delete keeps only the before image key and sets _deleted', () => {
    const before = { ...customer, owner_ref: null, created_at: '1970-01-01T00:00:00.000000Z' };
    const change = decodeChange(message('crm.crm.customers', { id: ID }, envelope('d', null, before, 27360384)), tables) as Change;
    expect(change.kind).toBe('change');
    expect(change.row).toEqual({ id: ID, _version: '27360384', _deleted: 1 });
  });

  test('a tombstone is acknowledged without a write', () => {
    expect(decodeChange(message('crm.crm.customers', { id: ID }, null), tables).kind).toBe('tombstone');
  });

  test('snapshot reads are applied like creates', () => {
    expect((decodeChange(message('crm.crm.customers', { id: ID }, envelope('r', customer)), tables) as Change).op).toBe('r');
  });

  test('orders keep their exact decimal amount', () => {
    const order = {
      id: ID,
      customer_id: ID,
      model_id: ID,
      status: 'new',
      amount: '12345.67',
      currency: 'EUR',
      ordered_at: '2026-11-25T08:39:56.480230Z',
      created_at: '2026-11-25T08:39:56.480230Z',
      updated_at: '2026-11-25T08:39:56.480230Z',
    };
    const change = decodeChange(message('crm.crm.orders', { id: ID }, envelope('c', order)), tables) as Change;
    expect(change.row.amount).toBe(12345.67);
    expect(JSON.stringify(change.row.amount)).toBe('12345.67');
  });

  test('an event written before the exclusion is stored without the username, name, e-mail and phone it still carries', () => {
    const old = { ...customer, username: 'ada.testova', full_name: 'Ada Testova', email: 'ada@example.test', phone: '+49 30 1234567' };
    const change = decodeChange(message('crm.crm.customers', { id: ID }, envelope('u', old)), tables) as Change;
    expect(change.kind).toBe('change');
    expect(Object.keys(change.row).sort()).toEqual(['_deleted', '_version', 'created_at', 'id', 'owner_ref', 'region', 'updated_at']);
    expect(JSON.stringify(change.row)).not.toContain('ada');
  });

  test('a customer without an owner ref yet (NULL, or an event from before the column) is stored with an empty one', () => {
    for (const image of [{ ...customer, owner_ref: null }, (({ owner_ref: _, ...rest }) => rest)(customer)]) {
      const change = decodeChange(message('crm.crm.customers', { id: ID }, envelope('u', image)), tables) as Change;
      expect(change.kind).toBe('change');
      expect(change.row.owner_ref).toBe('');
    }
  });

  const poisonCases: Array<[string, RawMessage, string]> = [
    ['unknown topic', message('crm.crm.nothing', { id: ID }, envelope('c', customer)), 'unknown_topic'],
    ['value not JSON', message('crm.crm.customers', { id: ID }, '\u0000garbage{'), 'not_json'],
    ['key not JSON', message('crm.crm.customers', 'not-json', envelope('c', customer)), 'bad_key'],
    ['no key', { ...message('crm.crm.customers', { id: ID }, envelope('c', customer)), key: null }, 'bad_key'],
    ['JSON but no envelope', message('crm.crm.customers', { id: ID }, { hello: 'world' }), 'not_an_envelope'],
    ['truncate op', message('crm.crm.customers', { id: ID }, envelope('t', null)), 'unsupported_op'],
    ['create without after', message('crm.crm.customers', { id: ID }, envelope('c', null)), 'invalid_row'],
    ['bad column', message('crm.crm.customers', { id: ID }, envelope('u', { ...customer, created_at: 'yesterday' })), 'invalid_row'],
    ['missing column', message('crm.crm.customers', { id: ID }, envelope('u', { ...customer, region: undefined })), 'invalid_row'],
    ['lsn not a number', message('crm.crm.customers', { id: ID }, envelope('c', customer, null, '123')), 'bad_version'],
    ['lsn beyond 2^53', message('crm.crm.customers', { id: ID }, envelope('c', customer, null, 2 ** 60)), 'bad_version'],
    ['key of another row', message('crm.crm.customers', { id: '00000000-0000-4000-8000-000000000000' }, envelope('c', customer)), 'key_mismatch'],
    ['delete without id', message('crm.crm.customers', { id: ID }, envelope('d', null, { owner_ref: null })), 'invalid_row'],
    ['owner ref of another format', message('crm.crm.customers', { id: ID }, envelope('u', { ...customer, owner_ref: 'ada.testova' })), 'invalid_row'],
    ['amount that is not numeric(12,2)', message('crm.crm.orders', { id: ID }, envelope('c', { amount: '1e5' })), 'invalid_row'],
  ];
  for (const [name, input, reason] of poisonCases) {
    test(`poison: ${name} → ${reason}`, () => {
      const decoded = decodeChange(input, tables);
      expect(decoded.kind).toBe('poison');
      expect(decoded.kind === 'poison' && decoded.reason).toBe(reason as never);
    });
  }
});

describe('ordering of changes to one row', () => {
  const change = (lsn: number, tsMs: number, offset: string) =>
    decodeChange(message('crm.crm.customers', { id: ID }, envelope('u', customer, null, lsn, tsMs), offset), tables) as Change;

  test('higher LSN wins, then commit time, then offset', () => {
    expect(isNewer(change(20, 1, '1'), change(10, 9, '9'))).toBe(true);
    expect(isNewer(change(10, 2, '1'), change(10, 1, '9'))).toBe(true);
    expect(isNewer(change(10, 1, '9'), change(10, 1, '1'))).toBe(true);
    expect(isNewer(change(10, 1, '1'), change(20, 1, '9'))).toBe(false);
  });

  test('newestPerRow keeps one change per row whatever the arrival order', () => {
    const older = change(10, 1, '5');
    const newer = change(30, 3, '6');
    const middle = change(20, 2, '7');
    const kept = newestPerRow([older, newer, middle]);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.version).toBe(30n);
  });
});

describe('the assignment history (bigint keys)', () => {
  const assignment = {
    id: 42,
    prosthesis_id: ID.toUpperCase(),
    customer_id: '9f1c4f8e-3b1d-4c5e-9a7b-0c2d3e4f5a6b',
    valid_from: '2026-12-06T10:30:05.123456Z',
    created_at: '2026-12-06T10:30:05.123456Z',
  };
  const topic = 'crm.crm.prosthesis_assignments';

  test('a create keeps valid_from in seconds and in ms, the id as decimal text', () => {
    const decoded = decodeChange(message(topic, { id: 42 }, envelope('c', assignment)), tables);
    expect(decoded.kind).toBe('change');
    const change = decoded as Change;
    expect(change.id).toBe('42');
    expect(change.row).toEqual({
      id: '42',
      prosthesis_id: ID,
      customer_id: assignment.customer_id,
      valid_from: Math.floor(Date.parse(assignment.valid_from) / 1000),
      valid_from_ms: Date.parse(assignment.valid_from),
      created_at: Math.floor(Date.parse(assignment.created_at) / 1000),
      _version: '27359536',
      _deleted: 0,
    });
  });

  test('a delete names the bigint id; a UUID or mismatched key is poison', () => {
    const deleted = decodeChange(message(topic, { id: 42 }, envelope('d', null, { id: 42 })), tables) as Change;
    expect(deleted.row).toEqual({ id: '42', _version: '27359536', _deleted: 1 });
    const uuidKey = decodeChange(message(topic, { id: ID }, envelope('c', assignment)), tables);
    expect(uuidKey.kind === 'poison' && uuidKey.reason).toBe('bad_key');
    const mismatch = decodeChange(message(topic, { id: 43 }, envelope('c', assignment)), tables);
    expect(mismatch.kind === 'poison' && mismatch.reason).toBe('key_mismatch');
    const negative = decodeChange(message(topic, { id: 42 }, envelope('c', { ...assignment, id: -1 })), tables);
    expect(negative.kind === 'poison' && negative.reason).toBe('invalid_row');
  });

  test('a UUID table still refuses a numeric key', () => {
    const decoded = decodeChange(message('crm.crm.customers', { id: 7 }, envelope('c', customer)), tables);
    expect(decoded.kind === 'poison' && decoded.reason).toBe('bad_key');
  });
});
