import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorResponse, ErrorCode } from '../../common/http/errors.ts';
import { isCompressible, negotiateCoding, type ContentCoding } from '../cdn/compression.ts';
import { matchesIfNoneMatch, representationEtag, strongEtagOf } from '../cdn/etag.ts';
import type { BffDeps, BffEnv } from './context.ts';
import type { FrontendAssetReader } from './frontend-asset-reader.ts';


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

/** Compressed copies held in memory, all files together; a copy that would not fit is not made. */
export const COMPRESSED_BUDGET_BYTES = 32 * 1024 * 1024;

export interface FrontendAssetOptions {
  compressedBudgetBytes?: number;
}

/** One file's tag and its compressed copies, all of the bytes that tag names. */
interface Representations {
  tag: string;
  encoded: Map<ContentCoding, Promise<Uint8Array>>;
  /** Budget held: the identity size while a copy is being made, then the copy's size. */
  heldBytes: number;
  replaced: boolean;
}

/**
 * GET/HEAD for the built app, registered after every BFF route so those keep precedence:
 * `/assets/*` (immutable, 404 envelope when missing), existing files at the build's root
 * (no-cache), and index.html (no-cache) for any other path a browser navigates to, so the app's
 * own paths (`/reports/2026-11-24`, `/admin/users/x`) load the app. Without a reader, nothing.
 * Text of 256 bytes or more goes out br or gzip when the client accepts it; each representation
 * has its own ETag (`"<tag>"`, `"<tag>-gzip"`, `"<tag>-br"`) and If-None-Match takes any of them.
 */
export function registerFrontendAssets(app: OpenAPIHono<BffEnv>, deps: Pick<BffDeps, 'frontendAssets' | 'compressor'>, options: FrontendAssetOptions = {}): void {
  const reader = deps.frontendAssets;
  if (!reader) return;
  const { compressor } = deps;
  const budgetBytes = options.compressedBudgetBytes ?? COMPRESSED_BUDGET_BYTES;
  // One entry per file found, so the build bounds the map. A name under /assets/ always holds the
  // same bytes (Vite hashes them into it): its tag and copies are made once. A root file such as
  // index.html keeps its name across builds: its tag is computed from the bytes read for every
  // request and a new tag replaces the entry, so a rebuilt index is never served from an old copy.
  const files = new Map<string, Representations>();
  let heldBytes = 0;
  const hold = (entry: Representations, deltaBytes: number) => {
    entry.heldBytes += deltaBytes;
    if (!entry.replaced) heldBytes += deltaBytes;
  };

  const representationsOf = async (path: string, bytes: Uint8Array<ArrayBuffer>, isImmutable: boolean) => {
    const known = files.get(path);
    if (known && isImmutable) return known;
    const tag = await strongEtagOf(bytes);
    // Checked again after the await: a concurrent request may have made the entry meanwhile.
    const current = files.get(path);
    if (current && (isImmutable || current.tag === tag)) return current;
    if (current) {
      current.replaced = true;
      heldBytes -= current.heldBytes;
    }
    const entry: Representations = { tag, encoded: new Map(), heldBytes: 0, replaced: false };
    files.set(path, entry);
    return entry;
  };

  /** What the client accepts and we can produce, for text worth compressing, if its copy exists or fits. */
  const codingFor = (c: Context<BffEnv>, entry: Representations, bytes: Uint8Array, compressible: boolean): ContentCoding | 'identity' => {
    if (!compressible) return 'identity';
    const coding = negotiateCoding(c.req.header('accept-encoding'), compressor.codings);
    if (coding === 'identity' || compressor.encodesResponses || entry.encoded.has(coding)) return coding;
    return heldBytes + bytes.byteLength <= budgetBytes ? coding : 'identity';
  };

  /** The copy in `coding`, made once; concurrent first requests share one compression. */
  const encodedCopy = (entry: Representations, bytes: Uint8Array, coding: ContentCoding): Promise<Uint8Array> => {
    let copy = entry.encoded.get(coding);
    if (!copy) {
      hold(entry, bytes.byteLength);
      copy = compressor.compress(bytes, coding).then(
        (encoded) => {
          hold(entry, encoded.byteLength - bytes.byteLength);
          return encoded;
        },
        (error: unknown) => {
          hold(entry, -bytes.byteLength);
          entry.encoded.delete(coding);
          throw error;
        },
      );
      entry.encoded.set(coding, copy);
    }
    return copy;
  };

  const serve = async (c: Context<BffEnv>, path: string, bytes: Uint8Array<ArrayBuffer>, isImmutable: boolean) => {
    const entry = await representationsOf(path, bytes, isImmutable);
    const contentType = contentTypeOf(path);
    const compressible = compressor.codings.length > 0 && isCompressible(contentType, bytes.byteLength);
    const coding = codingFor(c, entry, bytes, compressible);
    const headers: Record<string, string> = {
      // workerd encodes the identity bytes itself and weakens the tag when it does (as on the CDN).
      ETag: representationEtag(entry.tag, compressor.encodesResponses ? 'identity' : coding),
      'Cache-Control': isImmutable ? IMMUTABLE : REVALIDATE,
    };
    if (compressible) headers.Vary = 'Accept-Encoding';
    if (matchesIfNoneMatch(c.req.header('if-none-match'), entry.tag)) return c.body(null, 304, headers);
    headers['Content-Type'] = contentType;
    if (coding !== 'identity') headers['Content-Encoding'] = coding;
    // Hono answers HEAD by running this GET handler and dropping the body (headers kept).
    if (coding !== 'identity' && compressor.encodesResponses) return c.body(bytes, 200, headers);
    const body = coding === 'identity' ? bytes : await encodedCopy(entry, bytes, coding);
    headers['Content-Length'] = String(body.byteLength);
    return c.body(body as Uint8Array<ArrayBuffer>, 200, headers);
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
