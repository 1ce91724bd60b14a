/** What a BFF session stores (in the edge store, as JSON), apart from the session service so the in-process memo can read it too. */

/** Who the session belongs to, from the verified ID and access tokens. */
export interface SessionUser {
  username: string;
  subject: string;
  name: string | null;
  email: string | null;
  roles: string[];
}

/** The IdP tokens; they never leave the BFF and are encrypted at rest. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
}

export interface SessionRecord {
  v: 1;
  id: string;
  secretHash: string;
  user: SessionUser;
  createdAtMs: number;
  lastSeenAtMs: number;
  absoluteExpiresAtMs: number;
  accessExpiresAtMs: number;
  refreshExpiresAtMs: number | null;
  /** Bumped by each token refresh; waiters in other processes watch it. */
  generation: number;
  sealedTokens: string;
  userAgent: string | null;
  /** Keycloak's SSO session (`sid` of the ID token), when it named one: back-channel logout ends by it. */
  ssoSessionId?: string | null;
}
