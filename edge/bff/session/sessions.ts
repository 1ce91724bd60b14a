import { storeKeys, type EdgeStore } from '../../store/store.ts';
import { generateSessionToken, hashSessionSecret, isSessionSecretValid, parseSessionToken, type RandomBytes } from './session-token.ts';
import { createSessionMemo, type SessionMemo } from './session-memo.ts';
import { VaultError, type TokenVault } from './token-vault.ts';
import type { SessionRecord, SessionTokens, SessionUser } from './session-record.ts';

// The record's shape lives in session-record.ts (the memo reads it too); named here for the BFF's other files.
export type { SessionRecord, SessionTokens, SessionUser };

/** A validated session plus the exact stored text, which compare-and-set writes are based on. */
export interface LoadedSession {
  record: SessionRecord;
  raw: string;
}

export type SessionRejection = 'missing' | 'malformed' | 'unknown' | 'bad_secret' | 'idle_timeout' | 'expired';

export type ValidateResult = { ok: true; session: LoadedSession } | { ok: false; reason: SessionRejection };

export interface SessionServiceOptions {
  store: EdgeStore;
  vault: TokenVault;
  now: () => number;
  random: RandomBytes;
  idleTimeoutSeconds: number;
  absoluteLifetimeSeconds: number;
  /** Parsed records and opened tokens by exact record text (default: an 8 M-character budget). */
  memo?: SessionMemo;
}

export interface TokenUpdate {
  tokens: SessionTokens;
  accessExpiresAtMs: number;
  refreshExpiresAtMs: number | null;
  user?: SessionUser;
}

/** When a session lapses: idle timeout from the last request, capped by its absolute lifetime. */
export function sessionExpiresAtMs(record: SessionRecord, idleTimeoutSeconds: number): number {
  return Math.min(record.lastSeenAtMs + idleTimeoutSeconds * 1000, record.absoluteExpiresAtMs);
}

function parseRecord(raw: string): SessionRecord | undefined {
  try {
    const record = JSON.parse(raw) as SessionRecord;
    return record && record.v === 1 && typeof record.id === 'string' && typeof record.secretHash === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

export function createSessionService(options: SessionServiceOptions) {
  const { store, vault, now } = options;
  const memo = options.memo ?? createSessionMemo();
  const idleMs = options.idleTimeoutSeconds * 1000;
  /** Writing lastSeen on every request would make every API call a store write; a minute is precise enough. */
  const touchEveryMs = Math.min(60_000, idleMs / 4);

  const ttlSecondsOf = (record: SessionRecord) => Math.max(1, Math.ceil((sessionExpiresAtMs(record, options.idleTimeoutSeconds) - now()) / 1000));

  const load = async (id: string): Promise<LoadedSession | undefined> => {
    const raw = await store.get(storeKeys.session(id));
    if (raw === null) {
      memo.forget(id);
      return undefined;
    }
    const record = memo.record(id, raw, parseRecord);
    return record && record.id === id ? { record, raw } : undefined;
  };

  const write = async (current: LoadedSession, next: SessionRecord): Promise<LoadedSession | undefined> => {
    const raw = JSON.stringify(next);
    const ok = await store.compareAndSet(storeKeys.session(next.id), current.raw, raw, ttlSecondsOf(next));
    return ok ? { record: next, raw } : undefined;
  };

  const end = async (record: Pick<SessionRecord, 'id' | 'user'>): Promise<void> => {
    memo.forget(record.id);
    await store.delete(storeKeys.session(record.id));
    await store.removeMember(storeKeys.userSessions(record.user.username), record.id);
  };

  return {
    end,

    /** Mints a fresh session (never one the browser proposed) and indexes it under its user. */
    async create(user: SessionUser, update: TokenUpdate, userAgent: string | null, ssoSessionId: string | null = null): Promise<{ cookieValue: string; session: LoadedSession }> {
      const token = generateSessionToken(options.random);
      const at = now();
      const record: SessionRecord = {
        v: 1,
        id: token.id,
        secretHash: hashSessionSecret(token.secret),
        user,
        createdAtMs: at,
        lastSeenAtMs: at,
        absoluteExpiresAtMs: at + options.absoluteLifetimeSeconds * 1000,
        accessExpiresAtMs: update.accessExpiresAtMs,
        refreshExpiresAtMs: update.refreshExpiresAtMs,
        generation: 1,
        sealedTokens: await vault.seal(JSON.stringify(update.tokens), token.id),
        userAgent: userAgent ? userAgent.slice(0, 200) : null,
        ssoSessionId,
      };
      const raw = JSON.stringify(record);
      // setIfAbsent: a colliding id (2^-120) must never overwrite someone else's session.
      if (!(await store.setIfAbsent(storeKeys.session(record.id), raw, ttlSecondsOf(record)))) throw new Error('session id collision');
      await store.addMember(storeKeys.userSessions(user.username), record.id, options.absoluteLifetimeSeconds);
      await store.addMember(storeKeys.subjectSessions(user.subject), record.id, options.absoluteLifetimeSeconds);
      if (ssoSessionId) await store.addMember(storeKeys.ssoSessions(ssoSessionId), record.id, options.absoluteLifetimeSeconds);
      return { cookieValue: token.value, session: { record, raw } };
    },

    /** Checks a cookie value: shape, existence, secret (constant time), idle and absolute expiry. */
    async validate(cookieValue: string | undefined): Promise<ValidateResult> {
      if (!cookieValue) return { ok: false, reason: 'missing' };
      const token = parseSessionToken(cookieValue);
      if (!token) return { ok: false, reason: 'malformed' };
      const session = await load(token.id);
      if (!session) return { ok: false, reason: 'unknown' };
      if (!isSessionSecretValid(token.secret, session.record.secretHash)) return { ok: false, reason: 'bad_secret' };
      const at = now();
      if (at >= session.record.absoluteExpiresAtMs) {
        await end(session.record);
        return { ok: false, reason: 'expired' };
      }
      if (at >= session.record.lastSeenAtMs + idleMs) {
        await end(session.record);
        return { ok: false, reason: 'idle_timeout' };
      }
      return { ok: true, session };
    },

    /** Extends the idle window; a lost race (a refresh wrote first) is fine, that write was newer. */
    async touch(session: LoadedSession): Promise<LoadedSession> {
      if (now() - session.record.lastSeenAtMs < touchEveryMs) return session;
      return (await write(session, { ...session.record, lastSeenAtMs: now() })) ?? session;
    },

    async reload(id: string): Promise<LoadedSession | undefined> {
      return load(id);
    },

    async readTokens(record: SessionRecord): Promise<SessionTokens> {
      return memo.tokens(record, async () => JSON.parse(await vault.open(record.sealedTokens, record.id)) as SessionTokens);
    },

    /**
     * Stores refreshed tokens with compare-and-set on the record the caller read; if a touch
     * slipped in between, the tokens are applied on top of the newer record.
     */
    async replaceTokens(session: LoadedSession, update: TokenUpdate): Promise<LoadedSession | undefined> {
      const sealedTokens = await vault.seal(JSON.stringify(update.tokens), session.record.id);
      let current: LoadedSession | undefined = session;
      for (let attempt = 0; attempt < 3 && current; attempt++) {
        const next: SessionRecord = {
          ...current.record,
          user: update.user ?? current.record.user,
          sealedTokens,
          accessExpiresAtMs: update.accessExpiresAtMs,
          refreshExpiresAtMs: update.refreshExpiresAtMs,
          generation: current.record.generation + 1,
          lastSeenAtMs: Math.max(current.record.lastSeenAtMs, now()),
        };
        const written = await write(current, next);
        if (written) return written;
        current = await load(session.record.id);
      }
      return undefined;
    },

    /**
     * Ends every BFF session listed under a Keycloak SSO session (`sid`) or subject (`sub`), as a
     * back-channel logout asks; returns the records ended (their refresh tokens are Keycloak's to kill).
     */
    async endByIndex(indexKey: string, matches: (record: SessionRecord) => boolean): Promise<SessionRecord[]> {
      const ended: SessionRecord[] = [];
      for (const id of await store.members(indexKey)) {
        const session = await load(id);
        if (session && matches(session.record)) {
          await end(session.record);
          ended.push(session.record);
        }
        await store.removeMember(indexKey, id);
      }
      return ended;
    },

    /** The user's live sessions; ids whose record lapsed are pruned from the index on the way. */
    async listForUser(username: string): Promise<LoadedSession[]> {
      const ids = await store.members(storeKeys.userSessions(username));
      const found: LoadedSession[] = [];
      for (const id of ids) {
        const session = await load(id);
        if (session && session.record.user.username === username && now() < sessionExpiresAtMs(session.record, options.idleTimeoutSeconds)) found.push(session);
        else await store.removeMember(storeKeys.userSessions(username), id);
      }
      return found.sort((a, b) => b.record.createdAtMs - a.record.createdAtMs);
    },

    isVaultError(error: unknown): boolean {
      return error instanceof VaultError;
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
