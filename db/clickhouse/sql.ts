/**
 * The one way values reach ClickHouse SQL text in this project.
 *
 * ClickHouse 18.16 has no server-side query parameters, so values are rendered as literals by this
 * binder, which knows each value's type and escapes it for ClickHouse's literal grammar:
 *
 *   const q = chSql`SELECT * FROM report_hourly FINAL
 *                   WHERE user_id = ${userId} AND hour >= ${chDateTime(from)} AND prosthesis_id IN ${chTuple(ids.map(chUuid))}`;
 *   await client.query({ query: q.text, format: 'JSONEachRow' });
 *
 * Accepted values: string, number (safe integer → integer literal, other finite numbers → float
 * literal; NaN and ±Infinity are refused), bigint (Int64/UInt64 range), boolean (1/0), null (NULL),
 * arrays of accepted values, and the typed wrappers below (UUID, DateTime, Date, identifier, tuple,
 * nested fragments). Anything else — undefined, objects, Dates passed bare, functions, symbols —
 * throws, naming the placeholder, because guessing a type is how injection and silent bugs happen.
 *
 * Decisions:
 * - NUL (U+0000) in a string is refused: no legitimate value here contains it (PostgreSQL text
 *   cannot hold it, so nothing replicated from the CRM or telemetry can) and it usually means
 *   binary garbage or a truncation attack. Lone UTF-16 surrogates are refused too: they cannot be
 *   encoded as UTF-8, so the server would store U+FFFD instead of what the caller passed.
 * - Control characters are written as escapes (\n, \t, \xHH), so the query text stays printable
 *   and the literal never depends on how a line break is transported.
 * - Negative numbers are parenthesised: `a -${-1}` must not become the comment `a --1`.
 * - A Date must be on a whole second (ClickHouse DateTime has second precision); truncating
 *   silently would move range bounds, so call floorToSecond() when truncation is what you want.
 */

const FRAGMENT = Symbol('clickhouse-sql-fragment');

/** SQL text that is safe by construction: produced by this module only. */
export interface ChFragment {
  readonly [FRAGMENT]: true;
  readonly text: string;
}

export type ChValue = string | number | bigint | boolean | null | ChFragment | readonly ChValue[];

export class ChSqlError extends TypeError {
  override name = 'ChSqlError';
}

function fragment(text: string): ChFragment {
  return Object.freeze({ [FRAGMENT]: true as const, text });
}

export function isChFragment(value: unknown): value is ChFragment {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FRAGMENT] === true;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A ClickHouse string literal: quotes and backslashes escaped, control characters as escapes. */
export function quoteString(value: string): string {
  if (value.includes('\0')) throw new ChSqlError('string contains a NUL character (U+0000), which is refused');
  if (LONE_SURROGATE.test(value)) throw new ChSqlError('string contains a lone UTF-16 surrogate and cannot be encoded as UTF-8');
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\\'\x00-\x1f\x7f]/g, (ch) => NAMED_ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `'${escaped}'`;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function renderNumber(value: number): string {
  if (!Number.isFinite(value)) throw new ChSqlError(`number ${value} has no ClickHouse literal (NaN and Infinity are refused)`);
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new ChSqlError(`integer ${value} is beyond 2^53 and already lost precision; pass a bigint`);
  }
  // Object.is catches -0, which String() would print as "0".
  const text = Object.is(value, -0) ? '0' : String(value);
  return value < 0 ? `(${text})` : text;
}

function renderBigint(value: bigint): string {
  if (value < INT64_MIN || value > UINT64_MAX) throw new ChSqlError(`bigint ${value} is outside Int64/UInt64`);
  return value < 0n ? `(${value})` : String(value);
}

function render(value: unknown, where: string): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return renderNumber(value);
    case 'bigint':
      return renderBigint(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'object':
      if (isChFragment(value)) return value.text;
      if (Array.isArray(value)) return `[${value.map((v, i) => render(v, `${where}[${i}]`)).join(', ')}]`;
      if (value instanceof Date) throw new ChSqlError(`${where}: a bare Date is ambiguous; wrap it in chDateTime(d) or chDate(…)`);
      throw new ChSqlError(`${where}: unsupported value of type ${value.constructor?.name ?? 'object'}`);
    default:
      throw new ChSqlError(`${where}: unsupported value of type ${typeof value}`);
  }
}

/** Tagged template: literal SQL text with typed, escaped values in the placeholders. */
export function chSql(strings: TemplateStringsArray, ...values: ChValue[]): ChFragment {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) text += render(values[i], `placeholder #${i + 1}`) + (strings[i + 1] ?? '');
  return fragment(text);
}

/** One value rendered on its own (for building VALUES rows). */
export function chLiteral(value: ChValue): ChFragment {
  return fragment(render(value, 'value'));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID literal (`toUUID('…')`, which compares with UUID columns on every version). */
export function chUuid(value: string): ChFragment {
  if (typeof value !== 'string' || !UUID.test(value)) throw new ChSqlError(`not a UUID: ${JSON.stringify(String(value).slice(0, 60))}`);
  return fragment(`toUUID('${value.toLowerCase()}')`);
}

// DateTime is a UInt32 of seconds since the epoch.
const DATETIME_MAX_SECONDS = 2 ** 32 - 1;

/**
 * A DateTime literal for an instant, written as `toDateTime(<unix seconds>)`: no time-zone parsing
 * on the server, so it means the same instant whatever the server's or column's zone.
 */
export function chDateTime(value: Date): ChFragment {
  if (!(value instanceof Date)) throw new ChSqlError('chDateTime expects a Date');
  const ms = value.getTime();
  if (!Number.isFinite(ms)) throw new ChSqlError('chDateTime: invalid Date');
  if (ms % 1000 !== 0) throw new ChSqlError(`chDateTime: ${value.toISOString()} is not on a whole second (DateTime has second precision); use floorToSecond()`);
  const seconds = ms / 1000;
  if (seconds < 0 || seconds > DATETIME_MAX_SECONDS) throw new ChSqlError(`chDateTime: ${value.toISOString()} is outside DateTime's range (1970 … 2106)`);
  return fragment(`toDateTime(${seconds})`);
}

export function floorToSecond(value: Date): Date {
  return new Date(Math.floor(value.getTime() / 1000) * 1000);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A Date (calendar day) literal from `YYYY-MM-DD`, checked to be a real day in Date's range. */
export function chDate(value: string): ChFragment {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match) throw new ChSqlError(`chDate expects YYYY-MM-DD, got ${JSON.stringify(String(value).slice(0, 40))}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new ChSqlError(`chDate: ${value} is not a calendar day`);
  }
  if (year < 1970 || year > 2105) throw new ChSqlError(`chDate: ${value} is outside Date's range (1970 … 2105)`);
  return fragment(`toDate('${value}')`);
}

/** An explicit integer: refuses fractions instead of writing a float literal. */
export function chInt(value: number | bigint): ChFragment {
  if (typeof value === 'bigint') return fragment(renderBigint(value));
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new ChSqlError(`chInt: ${String(value)} is not a safe integer`);
  return fragment(renderNumber(value));
}

/** An explicit Float64, written so it never parses as an integer type. */
export function chFloat(value: number): ChFragment {
  if (typeof value !== 'number') throw new ChSqlError('chFloat expects a number');
  return fragment(`toFloat64(${renderNumber(value)})`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A database, table or column name; only plain identifiers are accepted, then back-quoted. */
export function chIdentifier(name: string): ChFragment {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) throw new ChSqlError(`not a plain identifier: ${JSON.stringify(String(name).slice(0, 60))}`);
  return fragment(`\`${name}\``);
}

/** `(a, b, c)` for `IN`; an empty list has no valid SQL form, so it is refused. */
export function chTuple(values: readonly ChValue[]): ChFragment {
  if (!Array.isArray(values) || values.length === 0) throw new ChSqlError('chTuple needs at least one value (`IN ()` is not valid SQL)');
  return fragment(`(${values.map((v, i) => render(v, `tuple[${i}]`)).join(', ')})`);
}

/** Joins fragments or values with a separator of literal SQL (`, `, ` AND `, …). */
export function chJoin(parts: readonly ChValue[], separator: ', ' | ' AND ' | ' OR ' | ',\n' = ', '): ChFragment {
  return fragment(parts.map((p, i) => render(p, `part[${i}]`)).join(separator));
}
