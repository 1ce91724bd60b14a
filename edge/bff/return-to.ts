/**
 * Where to send the browser after login. Only a same-origin path is accepted: no scheme, no host,
 * no `//` or `/\` (which browsers read as another host), no control characters. Anything else
 * falls back to the app's root rather than failing the login.
 */
export function safeReturnTo(value: string | undefined | null): string {
  if (!value || value.length > 512) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // Control characters and backslashes are never part of a path the app produces.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  const base = 'https://app.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return '/';
  }
  if (url.origin !== base) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments collapse while parsing (`/.//evil.com`, `/..//evil.com`, `/%2e//x` all become
  // `//…`): the normalised path, not only the input, must not be a network path.
  if (path.startsWith('//') || path.startsWith('/\\')) return '/';
  return path;
}

/** The app URL for a path returned by safeReturnTo; anything but a plain absolute path is the app's root. */
export function appUrl(frontendUrl: string, path: string): string {
  const plainPath = path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\');
  return `${frontendUrl}${plainPath ? path : '/'}`;
}
