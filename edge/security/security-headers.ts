import type { MiddlewareHandler } from 'hono';

export interface SecurityHeaderOptions {
  /** The origin the app is served from (HSTS is sent only when it is HTTPS). */
  publicUrl: string;
  /** Origins the app may fetch from besides itself (the CDN edge for report objects). */
  connectOrigins: readonly string[];
  /** Where forms may post: ourselves and the Keycloak login pages the app links to. */
  formOrigins: readonly string[];
}

/** The headers every BFF response carries; the CSP is the app's (it is served from here or behind the same origin). */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
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
  const isHttps = new URL(options.publicUrl).protocol === 'https:';
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('X-Frame-Options', 'DENY');
    // Signed report URLs and login codes sit in query strings: never leak them in Referer.
    headers.set('Referrer-Policy', 'no-referrer');
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (isHttps) headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
  };
}
