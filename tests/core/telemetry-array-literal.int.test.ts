import { afterAll, expect, test } from 'bun:test';
import postgres from 'postgres';
import { arrayLiteral } from '../../core/telemetry/pg-store.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';

// The telemetry store sends each column as one array literal: whatever a string holds, PostgreSQL
// must read back exactly the values sent, element by element (real telemetry PostgreSQL).
const sql = postgres(loadStackEnv().TELEMETRY_DATABASE_URL!, { max: 1, onnotice: () => undefined });
afterAll(() => sql.end());

test('hostile strings, NULL and the word NULL, numbers and booleans survive the round trip', async () => {
  const strings = ['plain', 'with space', 'comma,inside', '"quoted"', 'back\\slash', '\\"', '{braces}', 'NULL', '', "it's", ' lead', 'trail ', 'ünï', null, 'E_GRIP'];
  // Typed arrays shown in PostgreSQL's own text form (postgres.js reads a NULL element of an array
  // result back as a string or NaN).
  const [row] = await sql<{ ints: string; bools: string; nums: string }[]>`
    select (${arrayLiteral([1, null, -3])}::int4[])::text as ints, (${arrayLiteral([true, false])}::bool[])::text as bools,
           (${arrayLiteral([36.5, -0.25])}::numeric[])::text as nums`;
  // Strings element by element, as PostgreSQL sees them.
  const elements = await sql<{ i: number; value: string | null }[]>`select i::int, v as value from unnest(${arrayLiteral(strings)}::text[]) with ordinality as u(v, i) order by i`;
  expect(elements.map((e) => e.value)).toEqual(strings);
  expect(row).toEqual({ ints: '{1,NULL,-3}', bools: '{t,f}', nums: '{36.5,-0.25}' });
  expect(arrayLiteral([])).toBe('{}');
});
