import { expect, test } from 'bun:test';
import { findJwt, findLeaksInResponses } from './support/token-leaks.ts';

// A real-looking (unsigned) token: the scanner must recognise what Keycloak hands out.
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jws = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({ sub: 'x', preferred_username: 'ivan.petrov', exp: 1 })}.${'s'.repeat(43)}`;
const jwe = `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${'k'.repeat(40)}.${'i'.repeat(16)}.${'c'.repeat(60)}.${'t'.repeat(22)}`;

test('the JWT scanner finds signed and encrypted tokens wherever they sit in a text', () => {
  expect(findJwt(`{"access_token":"${jws}"}`)).toBe(jws);
  expect(findJwt(`Bearer ${jws}`)).toBe(jws);
  expect(findJwt(`token=${jwe}&x=1`)).toBeDefined();
  expect(findJwt('{"url":"http://localhost:8002/reports/a/list/reports.json?exp=1764000000&sig=' + 'A'.repeat(43) + '"}')).toBeUndefined();
  expect(findJwt('code=4b1c2d3e-0000-4000-8000-000000000001.5e6f.7a8b')).toBeUndefined();
  expect(findJwt(undefined)).toBeUndefined();
});

test('leaks are reported from bodies, headers and URLs; only Keycloak’s own cookies on its own origin are exempt', () => {
  const keycloak = 'http://127.0.0.1:8080';
  const leaks = findLeaksInResponses(
    [
      { url: 'http://localhost:3000/auth/me', status: 200, headers: {}, body: `{"token":"${jws}"}` },
      { url: 'http://localhost:8000/auth/callback', status: 302, headers: { location: `http://localhost:3000/#access_token=${jws}` }, body: undefined },
      { url: `${keycloak}/realms/r/login-actions/authenticate`, status: 302, headers: { 'set-cookie': `KEYCLOAK_IDENTITY=${jws}; HttpOnly` }, body: undefined },
      { url: 'http://localhost:8000/auth/login', status: 302, headers: { 'set-cookie': `bff_session=${jws}` }, body: undefined },
      { url: `http://localhost:3000/?t=${jws}`, status: 200, headers: {}, body: 'ok' },
    ],
    keycloak,
  );
  const kinds = leaks.map((leak) => (leak.where.startsWith('header') ? leak.where.split(' ').slice(0, 2).join(' ') : leak.where.split(' ')[0]));
  expect(kinds).toEqual(['body', 'header location', 'header set-cookie', 'URL']);
  expect(leaks[2]!.where).toContain('localhost:8000/auth/login');
});
