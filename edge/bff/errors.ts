import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { StoreUnavailable } from '../store/store.ts';
import { IdpUnavailable } from './keycloak.ts';
import { RefreshBusy, SessionExpired } from './session/refresh.ts';

const RETRY_AFTER_SECONDS = 2;

/** The BFF's own failures at the HTTP edge: dependencies down → 503 naming them, a dead session → 401. */
export function mapBffError(error: Error): Error {
  if (error instanceof StoreUnavailable) {
    return new ApiError({ code: ErrorCode.service_unavailable, message: 'Session store unavailable', details: { dependency: 'session_store' }, retryAfterSeconds: RETRY_AFTER_SECONDS, cause: error });
  }
  if (error instanceof IdpUnavailable) {
    return new ApiError({ code: ErrorCode.service_unavailable, message: 'Keycloak unavailable', details: { dependency: 'keycloak' }, retryAfterSeconds: RETRY_AFTER_SECONDS, cause: error });
  }
  if (error instanceof RefreshBusy) {
    return new ApiError({ code: ErrorCode.service_unavailable, message: 'Session refresh in progress; retry', details: { reason: 'refresh_in_progress' }, retryAfterSeconds: 1, cause: error });
  }
  if (error instanceof SessionExpired) return sessionExpired();
  return error;
}

/** 401 for a request that needs a session; `reason` tells the app whether to sign in again. */
export function unauthenticated(reason: string): ApiError {
  return new ApiError({ code: ErrorCode.unauthorized, message: 'Sign in required', details: { reason } });
}

/** The session existed but cannot continue (refresh failed, ended elsewhere). */
export function sessionExpired(): ApiError {
  return new ApiError({ code: ErrorCode.session_expired, message: 'Session expired; sign in again', details: { reason: 'session_expired' } });
}
