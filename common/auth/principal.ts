/** Who is calling, as established from a verified access token (never from the request). */
export interface Principal {
  /** preferred_username: the person's LDAP uid. Their reports are keyed by its owner ref (common/identity/owner-ref.ts), never by it. */
  username: string;
  subject: string | undefined;
  roles: ReadonlySet<string>;
  /** The client the token was issued to (azp). */
  clientId: string;
  /** Client-credentials tokens of service accounts (the jobs service), not people. */
  isServiceAccount: boolean;
  /** The `region` claim (ru/eu) Keycloak sets from the person's directory; absent for others. */
  region?: string;
}

/**
 * Usernames become S3 key segments and CDN paths, so only a conservative alphabet is accepted:
 * no slashes, no leading dot (no `..`), nothing that needs URL encoding.
 */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export function isSafeUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value);
}

export function hasAnyRole(principal: Principal, roles: readonly string[]): boolean {
  return roles.some((role) => principal.roles.has(role));
}
