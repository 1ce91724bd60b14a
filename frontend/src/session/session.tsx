import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiFailure, onSessionEnded } from '../http/request.ts';
import { checkSession, logout, type Me } from './session-api.ts';

/**
 * Who is signed in, as far as the app knows. The truth lives in the BFF (an HttpOnly cookie the
 * app cannot read): the app asks /auth/me at start, and any 401 afterwards means the session
 * ended — idle timeout, sign-out elsewhere, an administrator — so every page falls back to the
 * "session ended" screen, which signs in again and returns to the same page.
 */
export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; me: Me }
  | { status: 'expired' }
  | { status: 'unavailable'; error: unknown };

export interface SessionApi {
  state: SessionState;
  recheck(): void;
  /** Ends the BFF session, then sends the browser to Keycloak's end-session page. */
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

/** Longest a single timer may wait (setTimeout overflows past 2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_000_000;
/** A busy or briefly unavailable BFF (429/503 with Retry-After) is asked again by itself, within reason. */
const MAX_AUTO_RETRY_SECONDS = 30;

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'checking' });
  const [checks, setChecks] = useState(0);
  const wasSignedIn = useRef(false);
  const queryClient = useQueryClient();

  useEffect(() => {
    const controller = new AbortController();
    checkSession(controller.signal).then(
      (result) => {
        if (controller.signal.aborted) return;
        if (result.signedIn) {
          wasSignedIn.current = true;
          setState({ status: 'signed-in', me: result.me });
        } else {
          // A page that was showing someone's reports must not silently turn into the landing page.
          setState({ status: wasSignedIn.current || result.reason === 'session_expired' ? 'expired' : 'signed-out' });
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'unavailable', error });
      },
    );
    return () => controller.abort();
  }, [checks]);

  const recheck = useCallback(() => setChecks((n) => n + 1), []);

  useEffect(
    () =>
      onSessionEnded(() => {
        setState((current) => (current.status === 'signed-in' || current.status === 'checking' ? { status: 'expired' } : current));
      }),
    [],
  );

  // Nothing read while signed in outlives the session, not even in memory.
  const isSignedIn = state.status === 'signed-in';
  useEffect(() => {
    if (!isSignedIn) queryClient.clear();
  }, [isSignedIn, queryClient]);

  const retryAfter = state.status === 'unavailable' && state.error instanceof ApiFailure ? state.error.retryAfterSeconds : undefined;
  useEffect(() => {
    if (retryAfter === undefined || retryAfter > MAX_AUTO_RETRY_SECONDS) return;
    const timer = window.setTimeout(recheck, Math.max(1, retryAfter) * 1000);
    return () => window.clearTimeout(timer);
  }, [retryAfter, state, recheck]);

  // A page restored from the back/forward cache after sign-out must not show stale reports.
  useEffect(() => {
    const onPageShow = (event: PageTransitionEvent) => {
      if (event.persisted) recheck();
    };
    window.addEventListener('pageshow', onPageShow);
    return () => window.removeEventListener('pageshow', onPageShow);
  }, [recheck]);

  // When the idle window runs out on an untouched screen, hide the reports without waiting for a click.
  const expiresAt = state.status === 'signed-in' ? Date.parse(state.me.session.expiresAt) : NaN;
  useEffect(() => {
    if (!Number.isFinite(expiresAt)) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1_000, expiresAt - Date.now() + 1_000));
    const timer = window.setTimeout(recheck, delay);
    return () => window.clearTimeout(timer);
  }, [expiresAt, recheck]);

  const signOut = useCallback(async () => {
    const result = await logout();
    wasSignedIn.current = false;
    window.location.assign(result.endSessionUrl);
  }, []);

  return <SessionContext.Provider value={{ state, recheck, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside <SessionProvider>');
  return value;
}

/** The signed-in person; only for components rendered inside the signed-in part of the app. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe outside a signed-in page');
  return state.me;
}
