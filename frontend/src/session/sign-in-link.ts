/**
 * Where the BFF should bring a person back to after signing in: this page with its query, never
 * the login error. Paths are real history paths (not hashes) so that the BFF's `returnTo` — a
 * same-origin path — brings a person back to exactly the page they were on.
 */
export function returnToFor(location: { pathname: string; search: string }): string {
  const params = new URLSearchParams(location.search);
  params.delete('error');
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ''}`;
}

export function loginHref(returnTo: string): string {
  return returnTo === '/' ? '/auth/login' : `/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}
