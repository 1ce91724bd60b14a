import { errorResponseDoc } from '../../common/http/openapi.ts';

export const sessionErrors = {
  401: errorResponseDoc('No session or an invalid one (`unauthorized`, `details.reason` no_session or invalid_session), or an ended one (`session_expired`: idle, absolute lifetime, refresh refused)'),
  429: errorResponseDoc('Too many /auth requests from this address; see Retry-After'),
  503: errorResponseDoc('Session store or Keycloak unavailable; see Retry-After'),
} as const;

export const originErrors = {
  403: errorResponseDoc('Missing or foreign Origin on a state-changing request'),
} as const;
