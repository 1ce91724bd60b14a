import { ApiFailure, requestJson } from './http.ts';
import type { EndSessionsResponse, Me, SessionListResponse } from './types.ts';

export interface LogoutResponse {
  ended: boolean;
  endSessionUrl: string;
}

export type SessionCheck = { signedIn: true; me: Me } | { signedIn: false; reason: string };

/** Who is signed in; a 401 is an answer here ("nobody"), not a failure. */
export async function checkSession(signal?: AbortSignal): Promise<SessionCheck> {
  try {
    return { signedIn: true, me: await requestJson<Me>('/auth/me', { signal, expectSignedOut: true }) };
  } catch (error) {
    if (error instanceof ApiFailure && error.isUnauthorized) return { signedIn: false, reason: error.reason ?? 'no_session' };
    throw error;
  }
}

/** Ends the BFF session; the caller then opens endSessionUrl to end the Keycloak SSO session too. */
export function logout(): Promise<LogoutResponse> {
  return requestJson<LogoutResponse>('/auth/logout', { method: 'POST', expectSignedOut: true });
}

const sessionsPath = (username: string) => `/auth/admin/users/${encodeURIComponent(username)}/sessions`;

/** Administrators: a person's live sessions at the BFF. */
export function loadUserSessions(username: string, signal?: AbortSignal): Promise<SessionListResponse> {
  return requestJson<SessionListResponse>(sessionsPath(username), { signal });
}

/** Administrators: ends all of a person's sessions (and revokes their refresh tokens). */
export function endUserSessions(username: string): Promise<EndSessionsResponse> {
  return requestJson<EndSessionsResponse>(sessionsPath(username), { method: 'DELETE' });
}
