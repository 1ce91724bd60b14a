import { ApiFailure, requestJson } from '../http/request.ts';
import type { MeResponse } from '../../../edge/bff/me.ts';

/** Who is signed in, as the BFF describes them (the BFF's own schema, type-only). */
export type Me = MeResponse;

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

export function isAdministrator(me: Me): boolean {
  return me.roles.includes('administrator');
}

/** CRM operators (realm role crm_operator; their region is in the access token, read by core). */
export function isCrmOperator(me: Me): boolean {
  return me.roles.includes('crm_operator');
}
