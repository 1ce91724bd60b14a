import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * The BFF's two cookies. Over HTTPS they carry the `__Host-` prefix (Secure, Path=/, no Domain:
 * a sibling subdomain cannot plant or overwrite them). On http://localhost the prefix is not
 * allowed, but Secure stays: browsers accept Secure cookies from localhost.
 */
export interface CookieNames {
  session: string;
  login: string;
}

export function cookieNames(publicUrl: string): CookieNames {
  const prefix = new URL(publicUrl).protocol === 'https:' ? '__Host-' : '';
  return { session: `${prefix}bff_session`, login: `${prefix}bff_login` };
}

const BASE = { httpOnly: true, secure: true, sameSite: 'Lax', path: '/' } as const;

export function readCookie(c: Context, name: string): string | undefined {
  return getCookie(c, name);
}

/** Session cookie: lives as long as the session may (the server enforces the real expiry). */
export function setSessionCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, { ...BASE, maxAge: maxAgeSeconds });
}

/** Binds a login attempt to this browser; short-lived and only ever compared by hash. */
export function setLoginCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, { ...BASE, maxAge: maxAgeSeconds });
}

export function clearCookie(c: Context, name: string): void {
  deleteCookie(c, name, BASE);
}
