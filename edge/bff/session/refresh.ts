import type { Logger } from '../../../common/log.ts';
import { storeKeys, type EdgeStore } from '../../store/store.ts';
import { GrantRejected, TokenInvalid, type IdentityProvider } from '../keycloak.ts';
import { randomToken, type RandomBytes } from './session-token.ts';
import type { LoadedSession, SessionService, SessionTokens } from './sessions.ts';

/** The session cannot continue (refresh token dead, session ended meanwhile): the user signs in again. */
export class SessionExpired extends Error {
  constructor(reason: string) {
    super(`session expired: ${reason}`);
    this.name = 'SessionExpired';
  }
}

/** Another process holds the refresh lock and did not finish in time: retry shortly. */
export class RefreshBusy extends Error {
  constructor() {
    super('another edge process is refreshing this session');
    this.name = 'RefreshBusy';
  }
}

export interface FreshSession {
  session: LoadedSession;
  tokens: SessionTokens;
}

export interface TokenRefresher {
  /**
   * The session with an access token good for more than the skew. A refresh happens at most once
   * per session at a time: concurrent callers in this process share one promise (single flight),
   * callers in other processes wait on a store lock and pick up the result from the record.
   */
  ensureFresh(session: LoadedSession): Promise<FreshSession>;
}

export interface RefresherOptions {
  store: EdgeStore;
  sessions: SessionService;
  idp: IdentityProvider;
  logger: Logger;
  now: () => number;
  random: RandomBytes;
  skewSeconds: number;
  /** How long a lock holder may take (Keycloak's token endpoint plus one store write). */
  lockTtlSeconds?: number;
  /** How long a waiter waits for another process's refresh before answering 503. */
  waitForOtherMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createTokenRefresher(options: RefresherOptions): TokenRefresher {
  const { store, sessions, idp, logger, now } = options;
  const skewMs = options.skewSeconds * 1000;
  const lockTtlSeconds = options.lockTtlSeconds ?? 15;
  const waitForOtherMs = options.waitForOtherMs ?? 5_000;
  const inFlight = new Map<string, Promise<FreshSession>>();

  const isFresh = (session: LoadedSession) => session.record.accessExpiresAtMs - now() > skewMs;

  const endBecause = async (session: LoadedSession, reason: string): Promise<never> => {
    await sessions.end(session.record);
    logger.info('session.ended', { sessionId: session.record.id, reason });
    throw new SessionExpired(reason);
  };

  const readTokensOrEnd = async (session: LoadedSession): Promise<SessionTokens> => {
    try {
      return await sessions.readTokens(session.record);
    } catch (error) {
      if (sessions.isVaultError(error)) return endBecause(session, 'tokens_unreadable');
      throw error;
    }
  };

  const refreshHoldingLock = async (seen: LoadedSession): Promise<FreshSession> => {
    const latest = await sessions.reload(seen.record.id);
    if (!latest) throw new SessionExpired('ended');
    // Someone refreshed between our read and our lock: use theirs.
    if (latest.record.generation > seen.record.generation && isFresh(latest)) return { session: latest, tokens: await readTokensOrEnd(latest) };
    const tokens = await readTokensOrEnd(latest);
    if (!tokens.refreshToken) return endBecause(latest, 'no_refresh_token');
    let grant;
    try {
      grant = await idp.refresh(tokens.refreshToken);
    } catch (error) {
      if (error instanceof GrantRejected) return endBecause(latest, `refresh_rejected:${error.oauthCode}`);
      throw error;
    }
    let user;
    try {
      user = await idp.identify(grant.tokens, null);
    } catch (error) {
      if (error instanceof TokenInvalid) return endBecause(latest, 'refreshed_tokens_invalid');
      throw error;
    }
    if (user.username !== latest.record.user.username) return endBecause(latest, 'refreshed_tokens_other_user');
    const written = await sessions.replaceTokens(latest, { ...grant, user });
    if (!written) throw new SessionExpired('ended');
    logger.debug('session.refreshed', { sessionId: written.record.id, generation: written.record.generation });
    return { session: written, tokens: grant.tokens };
  };

  const refreshAcrossProcesses = async (seen: LoadedSession): Promise<FreshSession> => {
    const lockKey = storeKeys.refreshLock(seen.record.id);
    const owner = randomToken(options.random, 16);
    const deadline = now() + waitForOtherMs;
    for (;;) {
      if (await store.setIfAbsent(lockKey, owner, lockTtlSeconds)) {
        try {
          return await refreshHoldingLock(seen);
        } finally {
          await store.deleteIfEquals(lockKey, owner).catch(() => {});
        }
      }
      await sleep(50);
      const latest = await sessions.reload(seen.record.id);
      if (!latest) throw new SessionExpired('ended');
      if (latest.record.generation > seen.record.generation) return { session: latest, tokens: await readTokensOrEnd(latest) };
      if (now() > deadline) throw new RefreshBusy();
    }
  };

  return {
    async ensureFresh(session) {
      if (isFresh(session)) return { session, tokens: await readTokensOrEnd(session) };
      const id = session.record.id;
      let flight = inFlight.get(id);
      if (!flight) {
        flight = refreshAcrossProcesses(session).finally(() => inFlight.delete(id));
        inFlight.set(id, flight);
      }
      return flight;
    },
  };
}
