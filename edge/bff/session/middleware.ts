import type { Context, MiddlewareHandler } from 'hono';
import { addToWideEvent } from '../../../common/http/wide-event.ts';
import type { BffDeps, BffEnv } from '../context.ts';
import { sessionExpired, unauthenticated } from '../errors.ts';
import { clearCookie, cookieNames, readCookie } from './cookies.ts';
import { SessionExpired, type FreshSession } from './refresh.ts';
import { parseSessionToken } from './session-token.ts';
import type { SessionRejection } from './sessions.ts';

const REASON: Record<SessionRejection, string> = {
  missing: 'no_session',
  malformed: 'invalid_session',
  unknown: 'invalid_session',
  bad_secret: 'invalid_session',
  idle_timeout: 'session_expired',
  expired: 'session_expired',
};

/**
 * A check that runs in parallel with the session read, keyed by the cookie's session id (its public
 * half), so it costs no extra round trip; what it returns is thrown once the session proved valid.
 */
export type AlongsideSessionRead = (c: Context<BffEnv>, sessionId: string) => Promise<Error | undefined>;

/**
 * Requires a valid session cookie and puts the session on the context (extending its idle
 * window). An invalid cookie is cleared so the browser stops sending it.
 */
export function requireSession(deps: BffDeps, options: { alongside?: AlongsideSessionRead } = {}): MiddlewareHandler<BffEnv> {
  const names = cookieNames(deps.config.BFF_PUBLIC_URL);
  return async (c, next) => {
    const cookie = readCookie(c, names.session);
    const sessionId = options.alongside ? parseSessionToken(cookie)?.id : undefined;
    const [result, refused] = await Promise.all([deps.sessions.validate(cookie), sessionId ? options.alongside!(c, sessionId) : undefined]);
    if (!result.ok) {
      if (result.reason !== 'missing') clearCookie(c, names.session);
      addToWideEvent(c, { session: result.reason });
      throw REASON[result.reason] === 'session_expired' ? sessionExpired() : unauthenticated(REASON[result.reason]);
    }
    if (refused) throw refused;
    const session = await deps.sessions.touch(result.session);
    c.set('session', session);
    // The session id, not the username: logs name nobody directly (issue 11).
    addToWideEvent(c, { sessionId: session.record.id });
    await next();
  };
}

/** The session the middleware above established. */
export function currentSession(c: Context<BffEnv>) {
  const session = c.get('session');
  // Reaching a handler without it means the route was registered outside requireSession.
  if (!session) throw new Error('route is not behind requireSession');
  return session;
}

/** Ends the cookie side of a session (the record is deleted by the caller). */
export function clearSessionCookie(c: Context, deps: BffDeps): void {
  clearCookie(c, cookieNames(deps.config.BFF_PUBLIC_URL).session);
}

/**
 * The current session with an access token that has not expired (refreshed first if it is about
 * to), which also makes it the session on the context. A session Keycloak no longer honours ends
 * here: 401 session_expired and the cookie cleared.
 */
export async function freshSession(c: Context<BffEnv>, deps: BffDeps): Promise<FreshSession> {
  try {
    const fresh = await deps.refresher.ensureFresh(currentSession(c));
    c.set('session', fresh.session);
    return fresh;
  } catch (error) {
    if (error instanceof SessionExpired) {
      clearSessionCookie(c, deps);
      throw sessionExpired();
    }
    throw error;
  }
}
