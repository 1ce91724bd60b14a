import type { OpenAPIHono } from '@hono/zod-openapi';
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import type { Context } from 'hono';
import { errorResponse, ErrorCode } from '../../common/http/errors.ts';
import type { BffDeps, BffEnv } from './context.ts';

/**
 * The built app (frontend/dist), as the runtime can read it: node:fs on Node, Bun and Deno
 * (edge/runtime/frontend-dist.ts), the Workers Static Assets binding on workerd. `path` is relative
 * to the build's root, already decoded and checked here (no `.`/`..` segment, no backslash, no
 * control character); the reader confines it to its root again. Undefined when no such file.
 */
export interface FrontendAssetReader {
  read(path: string): Promise<Uint8Array<ArrayBuffer> | undefined>;
}

/** Vite names these after a hash of their content: a name never changes meaning. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and the build's root files keep their names across builds: revalidate each time. */
const REVALIDATE = 'no-cache';

/** What the BFF answers itself: an unknown path there is a 404 envelope, never the app. */
const BFF_PREFIXES = ['/auth/', '/api/', '/health/'];
const BFF_PATHS = new Set(['/auth', '/api', '/health', '/openapi.json']);

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff2: 'font/woff2',
};

export function contentTypeOf(path: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && CONTENT_TYPES[extension]) || 'application/octet-stream';
}

/**
 * Splits a URL path into decoded segments, or undefined when it could escape the build's root or
 * confuse a file system: a `.`/`..` segment (also encoded, `%2e%2e`), an encoded `/` or `\` inside
 * a segment, a backslash, a control character (NUL…), an empty segment before the last, or broken
 * percent-encoding. URL parsing already resolves plain `/../`; this catches what survives it.
 */
export function appPathSegments(pathname: string): string[] | undefined {
  if (!pathname.startsWith('/')) return undefined;
  const raw = pathname.slice(1).split('/');
  const segments: string[] = [];
  for (const [index, part] of raw.entries()) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..') return undefined;
    if (/[/\\\u0000-\u001f\u007f]/.test(segment)) return undefined;
    if (segment === '' && index < raw.length - 1) return undefined;
    segments.push(segment);
  }
  return segments;
}

/** A name the reader may be asked for: no empty or hidden (dot) segment. */
function isFileName(segments: readonly string[]): boolean {
  return segments.length > 0 && segments.every((segment) => segment !== '' && !segment.startsWith('.'));
}

/** A browser navigation lists text/html (q > 0); fetch() and API clients send a wildcard or JSON. */
export function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'text/html') return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** If-None-Match matches with the weak comparison (RFC 9110 §13.1.2), `*` matches any. */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

async function strongEtagOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `"${encodeBase64urlNoPadding(digest.subarray(0, 18))}"`;
}

/**
 * GET/HEAD for the built app, registered after every BFF route so those keep precedence:
 * `/assets/*` (immutable, 404 envelope when missing), existing files at the build's root
 * (no-cache), and index.html (no-cache) for any other path a browser navigates to, so the app's
 * own paths (`/reports/2026-11-24`, `/admin/users/x`) load the app. Without a reader, nothing.
 */
export function registerFrontendAssets(app: OpenAPIHono<BffEnv>, deps: Pick<BffDeps, 'frontendAssets'>): void {
  const reader = deps.frontendAssets;
  if (!reader) return;
  // Only for /assets/: a hashed name always holds the same bytes, so its tag never goes stale.
  // Bounded by the build's files (only found files are cached).
  const immutableEtags = new Map<string, string>();

  const serve = async (c: Context<BffEnv>, path: string, bytes: Uint8Array<ArrayBuffer>, isImmutable: boolean) => {
    let etag = isImmutable ? immutableEtags.get(path) : undefined;
    if (!etag) {
      etag = await strongEtagOf(bytes);
      if (isImmutable) immutableEtags.set(path, etag);
    }
    const headers = { ETag: etag, 'Cache-Control': isImmutable ? IMMUTABLE : REVALIDATE };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    // Hono answers HEAD by running this GET handler and dropping the body (headers kept).
    return c.body(bytes, 200, { ...headers, 'Content-Type': contentTypeOf(path), 'Content-Length': String(bytes.byteLength) });
  };

  app.get('*', async (c) => {
    const pathname = new URL(c.req.url).pathname;
    if (BFF_PATHS.has(pathname) || BFF_PREFIXES.some((prefix) => pathname.startsWith(prefix))) return c.notFound();
    const segments = appPathSegments(pathname);
    if (!segments) return errorResponse(c, ErrorCode.bad_request, 'Invalid path');

    if (segments[0] === 'assets' && segments.length > 1) {
      const rest = segments.slice(1);
      const path = `assets/${rest.join('/')}`;
      const bytes = isFileName(rest) ? await reader.read(path) : undefined;
      return bytes ? serve(c, path, bytes, true) : errorResponse(c, ErrorCode.not_found, 'No such asset');
    }
    // favicon.ico, robots.txt, index.html: a root name with an extension, so app paths skip the read.
    if (segments.length === 1 && isFileName(segments) && segments[0]!.includes('.')) {
      const bytes = await reader.read(segments[0]!);
      if (bytes) return serve(c, segments[0]!, bytes, false);
    }
    if (acceptsHtml(c.req.header('accept'))) {
      const index = await reader.read('index.html');
      if (index) return serve(c, 'index.html', index, false);
    }
    return c.notFound();
  });
}
