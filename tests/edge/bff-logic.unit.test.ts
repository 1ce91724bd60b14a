import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { GrantRejected, IdpUnavailable, type IdentityProvider, type TokenGrant } from '../../edge/bff/keycloak.ts';
import { headersForBrowser, headersForCore } from '../../edge/bff/proxy-headers.ts';
import { appUrl, safeReturnTo } from '../../edge/bff/return-to.ts';
import { createTokenRefresher, SessionExpired } from '../../edge/bff/session/refresh.ts';
import { webRandomBytes } from '../../edge/bff/session/session-token.ts';
import { createSessionService, sessionExpiresAtMs } from '../../edge/bff/session/sessions.ts';
import { createTokenVault } from '../../edge/bff/session/token-vault.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

describe('returnTo', () => {
  test('keeps same-origin paths, drops everything else to /', () => {
    expect(safeReturnTo('/reports/2026-11-24?x=1#top')).toBe('/reports/2026-11-24?x=1#top');
    expect(safeReturnTo('/a/../b')).toBe('/b');
    for (const bad of [undefined, '', 'reports', '//evil.example', '/\\evil.example', 'https://evil.example/x', 'javascript:alert(1)', '/\u0000x', '/x\ny', `/${'a'.repeat(600)}`]) {
      expect(safeReturnTo(bad)).toBe('/');
    }
  });

  test('paths whose dot segments normalise to a network path (//host) are refused', () => {
    for (const bad of ['/.//evil.com', '/..//evil.com', '/%2e//x', '/%2E%2E//evil.com', '/a/..//evil.com', '/././/evil.com/x?y#z']) {
      expect(safeReturnTo(bad)).toBe('/');
    }
    expect(safeReturnTo('/a/.//b')).toBe('/a//b');
  });

  test('appUrl never builds a URL to another host, whatever path it is handed', () => {
    expect(appUrl('http://localhost:3000', '/reports')).toBe('http://localhost:3000/reports');
    for (const bad of ['//evil.com', '/\\evil.com', 'evil.com', '@evil.com']) expect(appUrl('http://localhost:3000', bad)).toBe('http://localhost:3000/');
  });
});

describe('proxy header hygiene', () => {
  test('towards core: cookies, credentials, hop-by-hop and Connection-listed headers go; bearer and request id come', () => {
    const incoming = new Headers({
      cookie: 'bff_session=secret',
      authorization: 'Bearer forged',
      connection: 'keep-alive, x-private',
      'x-private': 'hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'websocket',
      'proxy-authorization': 'Basic x',
      host: 'localhost:8000',
      'x-request-id': 'chosen-by-browser',
      'content-type': 'application/json',
      accept: 'application/json',
      'if-none-match': '"abc"',
    });
    const out = headersForCore(incoming, 'access-token', 'req-123');
    expect(Object.fromEntries(out)).toEqual({
      authorization: 'Bearer access-token',
      'x-request-id': 'req-123',
      'accept-encoding': 'identity',
      'content-type': 'application/json',
      accept: 'application/json',
      'if-none-match': '"abc"',
    });
  });

  test('towards the browser: core cookies, encodings and hop-by-hop headers go', () => {
    const upstream = new Headers({ 'set-cookie': 'core=1', 'content-encoding': 'gzip', 'content-length': '12', connection: 'close', 'content-type': 'application/json', etag: '"v1"', 'cache-control': 'private, max-age=60', 'www-authenticate': 'Bearer' });
    expect(Object.fromEntries(headersForBrowser(upstream))).toEqual({ 'content-type': 'application/json', etag: '"v1"', 'cache-control': 'private, max-age=60' });
  });
});

async function fixture(idp: IdentityProvider, nowMs = { value: 1_800_000_000_000 }) {
  const now = () => nowMs.value;
  const store = createMemoryStore(now);
  const sessions = createSessionService({ store, vault: await createTokenVault(['unit-test-secret-0123456789']), now, random: webRandomBytes, idleTimeoutSeconds: 1800, absoluteLifetimeSeconds: 36_000 });
  const refresher = createTokenRefresher({ store, sessions, idp, logger: createMemoryLogger(), now, random: webRandomBytes, skewSeconds: 30 });
  const user = { username: 'ivan.petrov', subject: 'sub-1', name: 'Иван Петров', email: null, roles: ['prothetic_user'] };
  const created = await sessions.create(user, { tokens: { accessToken: 'a1', refreshToken: 'r1', idToken: 'i1' }, accessExpiresAtMs: now() + 300_000, refreshExpiresAtMs: null }, 'test');
  return { store, sessions, refresher, user, created, nowMs };
}

function idpWith(refresh: (token: string) => Promise<TokenGrant>): IdentityProvider & { refreshCalls: number } {
  const idp = {
    refreshCalls: 0,
    authorizationUrl: () => new URL('http://kc.invalid'),
    exchangeCode: () => Promise.reject(new Error('unused')),
    refresh: (token: string) => {
      idp.refreshCalls++;
      return refresh(token);
    },
    revoke: () => Promise.resolve(),
    identify: async () => ({ username: 'ivan.petrov', subject: 'sub-1', name: 'Иван Петров', email: null, roles: ['prothetic_user', 'administrator'] }),
    endSessionUrl: () => 'http://kc.invalid/logout',
    endSsoSession: () => Promise.resolve(),
    verifyLogoutToken: () => Promise.reject(new Error('not in these tests')),
  };
  return idp;
}

describe('sessions: idle timeout and absolute lifetime', () => {
  test('a session lapses after the idle timeout, activity extends it, the absolute lifetime caps it', async () => {
    const idp = idpWith(() => Promise.reject(new Error('unused')));
    const { sessions, created, nowMs } = await fixture(idp);
    let validated = await sessions.validate(created.cookieValue);
    expect(validated.ok).toBe(true);
    let steps = 0;
    for (; steps < 30; steps++) {
      nowMs.value += 25 * 60_000; // 25 minutes: inside the 30-minute idle window each time
      validated = await sessions.validate(created.cookieValue);
      if (!validated.ok) break;
      await sessions.touch(validated.session);
    }
    // 10 hours absolute = 24 steps of 25 minutes. The record's store TTL ends with it, so the
    // record is simply gone ('unknown'); a lookup racing the TTL sees 'expired'.
    expect(steps + 1).toBe(24);
    expect(validated.ok).toBe(false);
    expect(['expired', 'unknown']).toContain((validated as { reason: string }).reason);

    const second = await fixture(idp);
    second.nowMs.value += 31 * 60_000;
    const idle = await second.sessions.validate(second.created.cookieValue);
    expect(idle.ok).toBe(false);
    expect(['idle_timeout', 'unknown']).toContain((idle as { reason: string }).reason);
    // One second before the idle timeout it was still alive.
    const third = await fixture(idp);
    third.nowMs.value += 30 * 60_000 - 1000;
    expect((await third.sessions.validate(third.created.cookieValue)).ok).toBe(true);
  });

  test('expiry reported to the app is the earlier of idle and absolute', async () => {
    const { created } = await fixture(idpWith(() => Promise.reject(new Error('unused'))));
    const record = created.session.record;
    expect(sessionExpiresAtMs(record, 1800)).toBe(record.lastSeenAtMs + 1_800_000);
    expect(sessionExpiresAtMs({ ...record, absoluteExpiresAtMs: record.lastSeenAtMs + 1000 }, 1800)).toBe(record.lastSeenAtMs + 1000);
  });
});

describe('refresh: once per session, failures end it', () => {
  const grant = (n: number, now: number): TokenGrant => ({ tokens: { accessToken: `a${n}`, refreshToken: `r${n}`, idToken: `i${n}` }, accessExpiresAtMs: now + 300_000, refreshExpiresAtMs: null });

  test('a fresh token is used as is; a nearly expired one is refreshed by one call for many callers', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const idp = idpWith(async () => {
      await gate;
      return grant(2, Date.now());
    });
    const { refresher, created, nowMs, sessions } = await fixture(idp);
    expect((await refresher.ensureFresh(created.session)).tokens.accessToken).toBe('a1');
    expect(idp.refreshCalls).toBe(0);
    nowMs.value += 290_000;
    const current = (await sessions.validate(created.cookieValue)) as { ok: true; session: typeof created.session };
    const calls = Array.from({ length: 10 }, () => refresher.ensureFresh(current.session));
    release();
    const results = await Promise.all(calls);
    expect(idp.refreshCalls).toBe(1);
    expect(new Set(results.map((r) => r.tokens.accessToken))).toEqual(new Set(['a2']));
    expect(results[0]!.session.record.generation).toBe(2);
    expect(results[0]!.session.record.user.roles).toContain('administrator');
  });

  test('Keycloak refusing the refresh token ends the session', async () => {
    const idp = idpWith(() => Promise.reject(new GrantRejected('invalid_grant', 'Session not active')));
    const { refresher, created, nowMs, sessions } = await fixture(idp);
    nowMs.value += 290_000;
    await expect(refresher.ensureFresh(created.session)).rejects.toThrow(SessionExpired);
    expect(await sessions.validate(created.cookieValue)).toEqual({ ok: false, reason: 'unknown' });
  });

  test('Keycloak unreachable keeps the session (a 503, not a logout)', async () => {
    const idp = idpWith(() => Promise.reject(new IdpUnavailable('token refresh', new Error('ECONNREFUSED'))));
    const { refresher, created, nowMs, sessions } = await fixture(idp);
    nowMs.value += 290_000;
    await expect(refresher.ensureFresh(created.session)).rejects.toThrow(IdpUnavailable);
    expect((await sessions.validate(created.cookieValue)).ok).toBe(true);
  });
});
