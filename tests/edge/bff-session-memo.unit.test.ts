import { describe, expect, test } from 'bun:test';
import { createSessionMemo } from '../../edge/bff/session/session-memo.ts';
import { webRandomBytes } from '../../edge/bff/session/session-token.ts';
import { createSessionService, type SessionRecord } from '../../edge/bff/session/sessions.ts';
import { createTokenVault, type TokenVault } from '../../edge/bff/session/token-vault.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';
import { storeKeys } from '../../edge/store/store.ts';

const user = { username: 'memo.user', subject: 'sub-1', name: null, email: null, roles: ['prothetic_user'] };
const tokens = { accessToken: 'access-1', refreshToken: 'refresh-1', idToken: 'id-1' };

/** A vault that counts how often it opens a box. */
function countingVault(vault: TokenVault) {
  const counts = { opened: 0 };
  return {
    counts,
    vault: { ...vault, open: (sealed: string, id: string) => (counts.opened++, vault.open(sealed, id)) } as TokenVault,
  };
}

async function setup() {
  const store = createMemoryStore();
  const { vault, counts } = countingVault(await createTokenVault(['memo-secret-0123456789']));
  const sessions = createSessionService({ store, vault, now: Date.now, random: webRandomBytes, idleTimeoutSeconds: 1800, absoluteLifetimeSeconds: 36_000 });
  const created = await sessions.create(user, { tokens, accessExpiresAtMs: Date.now() + 300_000, refreshExpiresAtMs: null }, 'ua', 'sso-1');
  /** Another edge process: same store and keys, its own memo. */
  const otherProcess = () => createSessionService({ store, vault, now: Date.now, random: webRandomBytes, idleTimeoutSeconds: 1800, absoluteLifetimeSeconds: 36_000 });
  return { store, sessions, counts, created, otherProcess };
}

describe('session memo: parsed records and opened tokens, only while the stored text is the same', () => {
  test('repeated requests of one session open its tokens once', async () => {
    const { sessions, counts, created } = await setup();
    for (let i = 0; i < 5; i++) {
      const result = await sessions.validate(created.cookieValue);
      expect(result.ok).toBe(true);
      if (result.ok) expect(await sessions.readTokens(result.session.record)).toEqual(tokens);
    }
    expect(counts.opened).toBe(1);
  });

  test('an ended session is refused at once, although the memo had it', async () => {
    const { store, sessions, created } = await setup();
    expect((await sessions.validate(created.cookieValue)).ok).toBe(true);
    // Ended by another process: only the store knows.
    await store.delete(storeKeys.session(created.session.record.id));
    expect(await sessions.validate(created.cookieValue)).toEqual({ ok: false, reason: 'unknown' });
  });

  test('new tokens written by another process are read, not the memoised ones', async () => {
    const { sessions, counts, created, otherProcess } = await setup();
    const first = await sessions.validate(created.cookieValue);
    if (!first.ok) throw new Error('no session');
    await sessions.readTokens(first.session.record);
    // Another process refreshes the tokens; this one only sees the store change.
    const other = otherProcess();
    const seen = await other.reload(created.session.record.id);
    const replaced = await other.replaceTokens(seen!, { tokens: { ...tokens, accessToken: 'access-2' }, accessExpiresAtMs: Date.now() + 300_000, refreshExpiresAtMs: null });
    expect(replaced).toBeDefined();
    const again = await sessions.validate(created.cookieValue);
    if (!again.ok) throw new Error('no session');
    expect((await sessions.readTokens(again.session.record)).accessToken).toBe('access-2');
    expect(counts.opened).toBe(2);
  });

  test('a wrong secret is refused even when the record is memoised', async () => {
    const { sessions, created } = await setup();
    expect((await sessions.validate(created.cookieValue)).ok).toBe(true);
    const [id] = created.cookieValue.split('.');
    expect(await sessions.validate(`${id}.${'a'.repeat(24)}`)).toEqual({ ok: false, reason: 'bad_secret' });
  });

  test('memoised records cannot be changed in place by one request for the next', async () => {
    const { sessions, created } = await setup();
    const result = await sessions.validate(created.cookieValue);
    if (!result.ok) throw new Error('no session');
    expect(() => {
      (result.session.record as { user: { roles: string[] } }).user.roles.push('administrator');
    }).toThrow();
    expect(Object.isFrozen(result.session.record)).toBe(true);
  });

  test('bounded by characters: the least recently used entry goes first', () => {
    const memo = createSessionMemo(1_000);
    const record = (id: string) => ({ id, sealedTokens: `sealed-${id}` }) as unknown as SessionRecord;
    const parse = (id: string) => () => ({ ...record(id), user: { roles: [] } }) as unknown as SessionRecord;
    memo.record('a', 'x'.repeat(400), parse('a'));
    memo.record('b', 'y'.repeat(400), parse('b'));
    memo.record('a', 'x'.repeat(400), parse('a')); // a is now the most recent
    memo.record('c', 'z'.repeat(400), parse('c'));
    expect(memo.size).toBe(2);
    let parsed = 0;
    memo.record('b', 'y'.repeat(400), () => (parsed++, parse('b')()));
    expect(parsed).toBe(1); // b had been evicted
    memo.record('huge', 'h'.repeat(2_000), parse('huge'));
    expect(memo.size).toBeLessThanOrEqual(2);
  });
});
