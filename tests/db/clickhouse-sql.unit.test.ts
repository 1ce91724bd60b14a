import { describe, expect, test } from 'bun:test';
import {
  ChSqlError,
  chDate,
  chDateTime,
  chFloat,
  chIdentifier,
  chInt,
  chJoin,
  chLiteral,
  chSql,
  chTuple,
  chUuid,
  floorToSecond,
  quoteString,
  type ChValue,
} from '../../db/clickhouse/sql.ts';

/** Decodes a literal the way ClickHouse's parser does, to prove the escaping is lossless. */
function unquote(literal: string): string {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "'") throw new Error(`unescaped quote at ${i}`);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { '\\': '\\', "'": "'", n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
    if (next === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next !== undefined && simple[next] !== undefined) out += simple[next];
    else throw new Error(`unknown escape \\${next}`);
  }
  return out;
}

const HOSTILE_STRINGS = [
  '',
  "'",
  "''",
  "\\'",
  '\\',
  '\\\\',
  "' OR 1=1 --",
  "'; DROP TABLE reports.report_hourly; --",
  "\\'; SELECT * FROM system.users; --",
  "x' UNION ALL SELECT name FROM system.tables --",
  '`backtick` "double"',
  '{name:String}',
  'line1\nline2\r\n\ttab',
  '\b\f\v\x01\x1f\x7f',
  'Иван Петров — ü ß 中文 😀 🦾',
  '\u2028\u2029',
  '/* comment */ -- comment',
  '$$ $tag$ ?',
];

describe('quoteString', () => {
  for (const value of HOSTILE_STRINGS) {
    test(`round-trips ${JSON.stringify(value)}`, () => {
      const literal = quoteString(value);
      expect(unquote(literal)).toBe(value);
      // No raw control characters reach the query text.
      // eslint-disable-next-line no-control-regex
      expect(/[\x00-\x1f\x7f]/.test(literal)).toBe(false);
    });
  }

  test('a 5 MB string is escaped in linear time and losslessly', () => {
    const value = "a'\\b".repeat(1_250_000);
    const literal = quoteString(value);
    expect(literal.length).toBe(2 + 1_250_000 * 6);
    expect(unquote(literal)).toBe(value);
  });

  test('refuses NUL', () => {
    expect(() => quoteString('a\0b')).toThrow(ChSqlError);
    expect(() => quoteString('a\0b')).toThrow(/NUL/);
  });

  test('refuses lone surrogates but accepts pairs', () => {
    expect(() => quoteString('\uD83D')).toThrow(/surrogate/);
    expect(() => quoteString('x\uDE00')).toThrow(/surrogate/);
    expect(quoteString('\uD83D\uDE00')).toBe("'😀'");
  });
});

describe('chSql', () => {
  test('renders each value type', () => {
    const q = chSql`SELECT ${'a'}, ${42}, ${-7}, ${1.5}, ${-0.25}, ${12345678901234567890n}, ${-5n}, ${true}, ${false}, ${null}, ${['x', 'y']}, ${[[1], []]}`;
    expect(q.text).toBe("SELECT 'a', 42, (-7), 1.5, (-0.25), 12345678901234567890, (-5), 1, 0, NULL, ['x', 'y'], [[1], []]");
  });

  test('a negative number never turns into a comment', () => {
    expect(chSql`SELECT 1 -${-1}`.text).toBe('SELECT 1 -(-1)');
    expect(chSql`SELECT 1 -${-1n}`.text).toBe('SELECT 1 -(-1)');
  });

  test('-0 renders as 0', () => {
    expect(chSql`${-0}`.text).toBe('0');
  });

  test('nested fragments are inserted as SQL, plain strings never are', () => {
    const where = chSql`user_id = ${"o'neil"}`;
    expect(chSql`SELECT * FROM t WHERE ${where}`.text).toBe("SELECT * FROM t WHERE user_id = 'o\\'neil'");
    expect(chSql`SELECT ${'1; DROP TABLE t'}`.text).toBe("SELECT '1; DROP TABLE t'");
  });

  test('a look-alike object cannot pass as a fragment', () => {
    const forged = { text: '1; DROP TABLE t', [Symbol('clickhouse-sql-fragment')]: true } as unknown as ChValue;
    expect(() => chSql`SELECT ${forged}`).toThrow(/unsupported value of type Object/);
    const parsed = JSON.parse('{"text":"1"}') as ChValue;
    expect(() => chSql`SELECT ${parsed}`).toThrow(ChSqlError);
  });

  test('refuses values it cannot type', () => {
    const bad: unknown[] = [undefined, NaN, Infinity, -Infinity, 2 ** 53, new Date(0), {}, () => 1, Symbol('s'), new Map(), 2n ** 64n, -(2n ** 63n) - 1n];
    for (const value of bad) {
      expect(() => chSql`SELECT ${value as ChValue}`).toThrow(ChSqlError);
    }
    expect(() => chSql`SELECT ${['ok', undefined as unknown as ChValue]}`).toThrow(/placeholder #1\[1\]/);
  });

  test('names the failing placeholder', () => {
    expect(() => chSql`SELECT ${1}, ${'a\0'}`).toThrow(/NUL/);
    expect(() => chSql`SELECT ${1}, ${NaN}`).toThrow(/NaN/);
    expect(() => chSql`SELECT ${1}, ${undefined as unknown as ChValue}`).toThrow(/placeholder #2/);
  });
});

describe('typed wrappers', () => {
  test('chUuid validates and normalises', () => {
    expect(chUuid('0F0E0D0C-0B0A-4908-8706-050403020100').text).toBe("toUUID('0f0e0d0c-0b0a-4908-8706-050403020100')");
    for (const bad of ['', 'not-a-uuid', "0f0e0d0c-0b0a-4908-8706-050403020100' OR 1", '0f0e0d0c0b0a490887060504030201000', ' 0f0e0d0c-0b0a-4908-8706-050403020100']) {
      expect(() => chUuid(bad)).toThrow(ChSqlError);
    }
    expect(() => chUuid(42 as unknown as string)).toThrow(ChSqlError);
  });

  test('chDateTime writes unix seconds and refuses what DateTime cannot hold', () => {
    expect(chDateTime(new Date('2025-01-02T03:04:05Z')).text).toBe('toDateTime(1735787045)');
    expect(chDateTime(new Date(0)).text).toBe('toDateTime(0)');
    expect(() => chDateTime(new Date('2025-01-02T03:04:05.123Z'))).toThrow(/whole second/);
    expect(chDateTime(floorToSecond(new Date('2025-01-02T03:04:05.999Z'))).text).toBe('toDateTime(1735787045)');
    expect(() => chDateTime(new Date('nope'))).toThrow(/invalid Date/);
    expect(() => chDateTime(new Date('1969-12-31T23:59:59Z'))).toThrow(/range/);
    expect(() => chDateTime(new Date('2106-02-08T00:00:00Z'))).toThrow(/range/);
    expect(() => chDateTime('2025-01-01' as unknown as Date)).toThrow(/expects a Date/);
  });

  test('chDate accepts real calendar days only', () => {
    expect(chDate('2024-02-29').text).toBe("toDate('2024-02-29')");
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-01', "2024-01-01') OR ('1", '1969-12-31', '']) {
      expect(() => chDate(bad)).toThrow(ChSqlError);
    }
  });

  test('chInt and chFloat', () => {
    expect(chInt(5).text).toBe('5');
    expect(chInt(-5).text).toBe('(-5)');
    expect(chInt(2n ** 64n - 1n).text).toBe('18446744073709551615');
    expect(() => chInt(1.5)).toThrow(ChSqlError);
    expect(() => chInt(NaN)).toThrow(ChSqlError);
    expect(chFloat(3).text).toBe('toFloat64(3)');
    expect(chFloat(-1.5e-7).text).toBe('toFloat64((-1.5e-7))');
    expect(() => chFloat(NaN)).toThrow(ChSqlError);
  });

  test('chIdentifier allows plain names only', () => {
    expect(chIdentifier('report_hourly').text).toBe('`report_hourly`');
    for (const bad of ['', '1abc', 'a b', 'a`b', 'reports.t', 'a;DROP', 'ä', 'x'.repeat(200)]) {
      expect(() => chIdentifier(bad)).toThrow(ChSqlError);
    }
  });

  test('chTuple, chJoin and chLiteral', () => {
    expect(chSql`x IN ${chTuple(['a', "b'"])}`.text).toBe("x IN ('a', 'b\\'')");
    expect(chTuple([chUuid('0f0e0d0c-0b0a-4908-8706-050403020100')]).text).toBe("(toUUID('0f0e0d0c-0b0a-4908-8706-050403020100'))");
    expect(() => chTuple([])).toThrow(/at least one/);
    expect(chJoin([chSql`a = ${1}`, chSql`b = ${'x'}`], ' AND ').text).toBe("a = 1 AND b = 'x'");
    expect(chLiteral("it's").text).toBe("'it\\'s'");
  });
});
