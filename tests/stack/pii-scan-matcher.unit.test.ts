import { describe, expect, test } from 'bun:test';
import { compilePerson, countAll, countIn, h2StringBytes, type PersonNeedles } from './pii-scan/matcher.ts';
import { decodeH2Unicode, isStoredUser } from './pii-scan/stores.ts';

// The PII scan's matcher (tests/stack/pii-scan.int.test.ts): a value planted in any of the forms a
// store may give it must be counted, under the right kind, and nothing else.
const ivan: PersonNeedles = {
  uid: 'ivan.petrov',
  values: { name: ['Иван Петров'], email: ['ivan.petrov@ru.bionicpro.example'], phone: ['+7 912 345-67-89'], username: ['ivan.petrov'] },
  nameParts: [['Иван', 'Петров']],
};
const person = compilePerson(ivan);

describe('pii-scan matcher', () => {
  test('H2 writes Cyrillic without UTF-8 continuation bits (bytes read from Keycloak’s keycloakdb.mv.db)', () => {
    expect(h2StringBytes('Иван').toString('hex')).toBe('d018d032d030d03d');
    expect(h2StringBytes('ivan')).toEqual(Buffer.from('ivan'));
    // A plain UTF-8 search cannot see it: that is why the H2 form is searched.
    expect(h2StringBytes('Иван').includes(Buffer.from('Иван', 'utf8'))).toBe(false);
  });

  test('a name is found as UTF-8, UTF-16 LE/BE, H2, JSON \\u escapes and percent-encoding', () => {
    const forms = [
      Buffer.from('x Иван Петров y', 'utf8'),
      Buffer.from('x Иван Петров y', 'utf16le'),
      Buffer.from('x Иван Петров y', 'utf16le').swap16(),
      Buffer.concat([Buffer.from([0, 1, 2]), h2StringBytes('Иван Петров'), Buffer.from([9])]),
      Buffer.from(JSON.stringify({ n: 'Иван Петров' }).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)),
      Buffer.from(`GET /search?q=${encodeURIComponent('Иван Петров')} HTTP/1.1`),
    ];
    for (const bytes of forms) expect(countIn(bytes, person)).toEqual({ name: 1, email: 0, phone: 0, username: 0 });
  });

  test('a name kept in two fields is found: H2 row bytes (FIRST_NAME, LAST_NAME), SQL values', () => {
    // As in Keycloak's USER_ENTITY row on disk: a one-byte header before each string.
    const row = Buffer.concat([Buffer.from([0x48]), h2StringBytes('Иван'), Buffer.from([0x4a]), h2StringBytes('Петров'), Buffer.from([0x0d])]);
    expect(countIn(row, person).name).toBe(1);
    expect(countIn(Buffer.from("VALUES('Иван', 'Петров', 'x')"), person).name).toBe(1);
    // Fields further apart than a few bytes are not paired (the Keycloak REST scan joins firstName and lastName itself).
    expect(countIn(Buffer.from('{"firstName":"Иван","lastName":"Петров"}'), person).name).toBe(0);
    // The whole name and its parts at one place count once.
    expect(countIn(Buffer.from('Иван Петров'), person).name).toBe(1);
    // Far apart, they are two unrelated words.
    expect(countIn(Buffer.from('Иван went to see the Петров exhibition'), person).name).toBe(0);
  });

  test('each kind is counted apart; a username inside the e-mail counts as the e-mail only', () => {
    expect(countIn(Buffer.from('{"email":"ivan.petrov@ru.bionicpro.example"}'), person)).toEqual({ name: 0, email: 1, phone: 0, username: 0 });
    expect(countIn(Buffer.from('uid=ivan.petrov,ou=people mail=ivan.petrov@ru.bionicpro.example'), person)).toEqual({ name: 0, email: 1, phone: 0, username: 1 });
    expect(countIn(Buffer.from('to=ivan.petrov%40ru.bionicpro.example'), person)).toEqual({ name: 0, email: 1, phone: 0, username: 0 });
    expect(countIn(Buffer.from('phone +7 912 345-67-89, normalised 79123456789'), person)).toEqual({ name: 0, email: 0, phone: 2, username: 0 });
    expect(countIn(Buffer.from('reports/ivan.petrov/summary.json'), person)).toEqual({ name: 0, email: 0, phone: 0, username: 1 });
  });

  test('unrelated text is not a hit', () => {
    const { counts, hitUids } = countAll(Buffer.from('Иван Петренко, ivan.petrova, +7 912 345-67-80, 7912345678'), [person]);
    expect(counts).toEqual({ name: 0, email: 0, phone: 0, username: 1 });
    // "ivan.petrova" contains the username: substring search over-counts, never under-counts.
    expect(hitUids).toEqual(new Set(['ivan.petrov']));
    expect(countAll(Buffer.from('nothing personal here'), [person]).counts).toEqual({ name: 0, email: 0, phone: 0, username: 0 });
  });

  test('H2 Recover’s U& literals are decoded before the search', () => {
    const line = "INSERT INTO O_506 VALUES('id', U&'\\0418\\0432\\0430\\043d', U&'\\041f\\0435\\0442\\0440\\043e\\0432 it''s');";
    expect(decodeH2Unicode(line)).toBe("INSERT INTO O_506 VALUES('id', 'Иван', 'Петров it''s');");
    expect(countIn(Buffer.from(decodeH2Unicode("VALUES(U&'\\0418\\0432\\0430\\043d \\041f\\0435\\0442\\0440\\043e\\0432')")), person).name).toBe(1);
  });

  test('a federated id is no stored user; any other id is a row of Keycloak’s own', () => {
    expect(isStoredUser('f:pNN9Yt2mSbyMLTOseqQ7gw:ivan.petrov')).toBe(false);
    expect(isStoredUser('0b8abee5-cf07-4c8e-86c5-cda5620fdb1e')).toBe(true);
  });
});
