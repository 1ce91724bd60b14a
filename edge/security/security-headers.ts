import type { MiddlewareHandler } from 'hono';

export interface SecurityHeaderOptions {
  /** The origin the app is served from (HSTS is sent only when it is HTTPS). */
  publicUrl: string;
  /** Origins the app may fetch from besides itself (the CDN edge for report objects). */
  connectOrigins: readonly string[];
  /** Where forms may post: ourselves and the Keycloak login pages the app links to. */
  formOrigins: readonly string[];
}

/**
 * The headers the app is served with: by the BFF (every response, including the built app from
 * frontend/dist) and by `vite preview` (frontend/vite.config.ts imports this), so the browser tests
 * run the built app under exactly the policy the edge sends.
 */
export function appSecurityHeaders(options: SecurityHeaderOptions): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // React sets style attributes; no inline script is ever allowed.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${options.connectOrigins.join(' ')}`.trim(),
    `form-action 'self' ${options.formOrigins.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  const headers: Record<string, string> = {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // Signed report URLs and login codes sit in query strings: never leak them in Referer.
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
  if (new URL(options.publicUrl).protocol === 'https:') headers['Strict-Transport-Security'] = 'max-age=63072000; includeSubDomains';
  return headers;
}

/** The headers every BFF response carries; the CSP is the app's (it is served from here or behind the same origin). */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  const entries = Object.entries(appSecurityHeaders(options));
  return async (c, next) => {
    await next();
    for (const [name, value] of entries) c.res.headers.set(name, value);
  };
}
