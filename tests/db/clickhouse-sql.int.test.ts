import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { clickHouseConfigFromEnv, createClickHouseClient } from '../../db/clickhouse/client.ts';
import { chDate, chDateTime, chIdentifier, chInt, chJoin, chSql, chTuple, chUuid } from '../../db/clickhouse/sql.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Round-trips hostile values through the stack's real ClickHouse (18.16 here): written with the
// binder, read back over JSONEachRow, and matched with the binder in a WHERE clause. Runs in a
// scratch database that the test drops at the end.
const env = loadStackEnv();
const database = `test_binder_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = createClickHouseClient(clickHouseConfigFromEnv(env, { database: 'default' }));
const client = createClickHouseClient(clickHouseConfigFromEnv(env, { database }));

const HOSTILE = [
  '',
  "'",
  "\\'",
  '\\',
  "' OR 1=1 --",
  "'; DROP TABLE t; --",
  "x' UNION ALL SELECT name FROM system.tables --",
  '`backtick` "double" {name:String}',
  'line1\nline2\r\n\ttab',
  '\b\f\v\x01\x1f\x7f',
  'Иван Петров — ü ß 中文 😀 🦾',
  '\u2028\u2029',
  '/* c */ -- c',
  '%s %d $1 ?',
  'x'.repeat(100_000) + "'\\",
];

interface Row {
  n: number;
  s: string;
}

beforeAll(async () => {
  await admin.command({ query: chSql`CREATE DATABASE IF NOT EXISTS ${chIdentifier(database)}`.text });
  await client.command({ query: 'CREATE TABLE strings (n UInt32, s String) ENGINE = MergeTree() ORDER BY n' });
  await client.command({
    query: `CREATE TABLE typed (id UUID, at DateTime('UTC'), day Date, big Int64, ubig UInt64, f Float64, tags Array(String), maybe Nullable(String))
            ENGINE = MergeTree() ORDER BY id`,
  });
});

afterAll(async () => {
  await admin.command({ query: chSql`DROP DATABASE IF EXISTS ${chIdentifier(database)}`.text });
  await client.close();
  await admin.close();
});

describe('binder against the real ClickHouse', () => {
  test('hostile strings are stored and read back unchanged', async () => {
    const rows = chJoin(HOSTILE.map((s, n) => chSql`(${n}, ${s})`));
    await client.command({ query: chSql`INSERT INTO strings (n, s) VALUES ${rows}`.text });
    const result = await client.query({ query: 'SELECT n, s FROM strings ORDER BY n', format: 'JSONEachRow' });
    const back = await result.json<Row>();
    expect(back.map((r) => Number(r.n))).toEqual(HOSTILE.map((_, n) => n));
    for (const [n, s] of HOSTILE.entries()) expect(back[n]!.s).toBe(s);
  });

  test('each hostile string matches exactly its own row in a WHERE clause', async () => {
    for (const [n, s] of HOSTILE.entries()) {
      const result = await client.query({
        query: chSql`SELECT n FROM strings WHERE s = ${s}`.text,
        format: 'JSONEachRow',
        clickhouse_settings: { max_query_size: '1000000' },
      });
      expect((await result.json<{ n: number }>()).map((r) => Number(r.n))).toEqual([n]);
    }
  });

  test('IN with a tuple of hostile strings', async () => {
    const result = await client.query({
      query: chSql`SELECT count() AS c FROM strings WHERE s IN ${chTuple(HOSTILE.slice(0, 5))}`.text,
      format: 'JSONEachRow',
    });
    expect(Number((await result.json<{ c: string }>())[0]!.c)).toBe(5);
  });

  test('UUID, DateTime, Date, 64-bit integers, floats, arrays and NULL round-trip', async () => {
    const id = randomUUID();
    const at = new Date('2025-03-30T01:59:59Z');
    await client.command({
      query: chSql`INSERT INTO typed VALUES (${chUuid(id)}, ${chDateTime(at)}, ${chDate('2024-02-29')},
        ${chInt(-(2n ** 63n))}, ${chInt(2n ** 64n - 1n)}, ${-1.5e-7}, ${["a'b", '\\', '']}, ${null})`.text,
    });
    const result = await client.query({
      query: chSql`SELECT toString(id) AS id_text, toUnixTimestamp(at) AS at_seconds, toString(day) AS day_text,
        toString(big) AS big_text, toString(ubig) AS ubig_text, f, tags, maybe FROM typed WHERE id = ${chUuid(id.toUpperCase())} AND at = ${chDateTime(at)}`.text,
      format: 'JSONEachRow',
    });
    const rows = await result.json<Record<string, unknown>>();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      id_text: id,
      at_seconds: at.getTime() / 1000,
      day_text: '2024-02-29',
      big_text: '-9223372036854775808',
      ubig_text: '18446744073709551615',
      f: -1.5e-7,
      tags: ["a'b", '\\', ''],
      maybe: null,
    });
  });

  test('a negative bound is still a number, not a comment', async () => {
    const result = await client.query({ query: chSql`SELECT 10 -${-5} AS v`.text, format: 'JSONEachRow' });
    expect(Number((await result.json<{ v: number }>())[0]!.v)).toBe(15);
  });
});
