import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { OpenAPIHono } from '@hono/zod-openapi';
import { ConfigError } from '../../common/config.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { createBffApp } from '../../edge/bff/app.ts';
import type { BffEnv } from '../../edge/bff/context.ts';
import { buildBffDeps } from '../../edge/bff/deps.ts';
import type { FrontendAssetReader } from '../../edge/bff/frontend-asset-reader.ts';
import { acceptsHtml, appPathSegments, registerFrontendAssets } from '../../edge/bff/frontend-assets.ts';
import { createRuntimeEncoding, type Compressor, type ContentCoding } from '../../edge/cdn/compression.ts';
import type { IdentityProvider } from '../../edge/bff/keycloak.ts';
import { loadBffConfig } from '../../edge/config.ts';
import { createDistReader, openFrontendDist } from '../../edge/runtime/frontend-dist.ts';
import { createZlibCompressor } from '../../edge/runtime/zlib-compressor.ts';
import { appSecurityHeaders } from '../../edge/security/security-headers.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

const ENV = {
  KEYCLOAK_URL: 'http://kc.invalid',
  KEYCLOAK_REALM: 'reports-realm',
  BFF_CLIENT_SECRET: 'unit-test-client-secret',
  SESSION_ENCRYPTION_KEY: 'unit-test-session-key-0123456789',
  CORE_URL: 'http://core.invalid',
  BFF_PUBLIC_URL: 'http://localhost:8000',
  FRONTEND_URL: 'http://localhost:8000',
  CDN_URL: 'http://localhost:8002',
};
const ORIGIN = 'http://localhost:8000';
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const JSON_ONLY = { accept: 'application/json' };

const encode = (text: string) => new TextEncoder().encode(text);
const INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/app-abc.js"></script>';
const APP_JS = 'console.log("app")';

/** An in-memory build, recording every path the BFF asks for. */
function memoryDist(files: Record<string, string>): FrontendAssetReader & { seen: string[]; files: Map<string, Uint8Array<ArrayBuffer>> } {
  const map = new Map(Object.entries(files).map(([path, text]) => [path, encode(text)]));
  const seen: string[] = [];
  return {
    seen,
    files: map,
    async read(path) {
      seen.push(path);
      return map.get(path);
    },
  };
}

const idp: IdentityProvider = {
  authorizationUrl: () => new URL('http://kc.invalid/realms/reports-realm/protocol/openid-connect/auth'),
  exchangeCode: () => Promise.reject(new Error('unused')),
  refresh: () => Promise.reject(new Error('unused')),
  revoke: () => Promise.resolve(),
  identify: () => Promise.reject(new Error('unused')),
  endSessionUrl: () => 'http://kc.invalid/logout',
  endSsoSession: () => Promise.resolve(),
  verifyLogoutToken: () => Promise.reject(new Error('not in these tests')),
};

async function bffWith(frontendAssets: FrontendAssetReader | undefined, compressor?: Compressor) {
  const upstreamCalls: string[] = [];
  const deps = await buildBffDeps(loadBffConfig(ENV), {
    store: createMemoryStore(),
    logger: createMemoryLogger('bff'),
    idp,
    frontendAssets,
    compressor,
    fetchUpstream: async (url) => {
      upstreamCalls.push(url);
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    },
  });
  return { app: createBffApp(deps), upstreamCalls };
}

async function expectEnvelope(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = (await response.json()) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeString();
}

describe('frontend assets: happy', () => {
  const dist = memoryDist({ 'index.html': INDEX, 'assets/app-abc.js': APP_JS, 'assets/app-abc.css': 'body{}', 'favicon.ico': 'ico', 'assets/font-x.woff2': 'w' });
  let app: Awaited<ReturnType<typeof bffWith>>['app'];
  beforeAll(async () => {
    ({ app } = await bffWith(dist));
  });

  test('/ and the app’s own paths load index.html, revalidated, under the app CSP', async () => {
    const csp = appSecurityHeaders({ publicUrl: ENV.BFF_PUBLIC_URL, connectOrigins: [ENV.CDN_URL], formOrigins: [ENV.KEYCLOAK_URL] })['Content-Security-Policy'];
    for (const path of ['/', '/reports/2026-11-24', '/admin', '/admin/users/lena.schmidt/reports/2026-11-24', '/reports/?x=1']) {
      const response = await app.request(path, { headers: HTML });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(INDEX);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe(csp!);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
      expect(response.headers.get('x-request-id')).toBeString();
    }
  });

  test('/assets/* are immutable, typed from the extension, with a strong ETag', async () => {
    const js = await app.request('/assets/app-abc.js');
    expect(js.status).toBe(200);
    expect(await js.text()).toBe(APP_JS);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-length')).toBe(String(APP_JS.length));
    expect(js.headers.get('etag')).not.toStartWith('W/');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await app.request('/assets/app-abc.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await app.request('/assets/font-x.woff2')).headers.get('content-type')).toBe('font/woff2');
  });

  test('files at the build root are served as they are, revalidated', async () => {
    const icon = await app.request('/favicon.ico', { headers: { accept: 'image/avif,image/*' } });
    expect(icon.status).toBe(200);
    expect(await icon.text()).toBe('ico');
    expect(icon.headers.get('content-type')).toBe('image/x-icon');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  test('HEAD answers the headers without a body', async () => {
    for (const [path, length] of [['/', INDEX.length], ['/assets/app-abc.js', APP_JS.length]] as const) {
      const response = await app.request(path, { method: 'HEAD', headers: HTML });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(length));
      expect(response.headers.get('etag')).toBeString();
      expect(await response.text()).toBe('');
    }
  });

  test('If-None-Match with the current tag → 304 without a body; another tag → 200', async () => {
    for (const path of ['/assets/app-abc.js', '/reports/2026-11-24']) {
      const etag = (await app.request(path, { headers: HTML })).headers.get('etag')!;
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const response = await app.request(path, { headers: { ...HTML, 'if-none-match': ifNoneMatch } });
        expect(response.status).toBe(304);
        expect(response.headers.get('etag')).toBe(etag);
        expect(response.headers.get('cache-control')).toBeString();
        expect(response.headers.get('content-security-policy')).toBeString();
        expect(await response.text()).toBe('');
      }
      const other = await app.request(path, { headers: { ...HTML, 'if-none-match': '"stale"' } });
      expect(other.status).toBe(200);
    }
  });

  test('a rebuilt index.html gets a new ETag (root files are not tagged once and for all)', async () => {
    const local = memoryDist({ 'index.html': INDEX });
    const { app: localApp } = await bffWith(local);
    const before = (await localApp.request('/', { headers: HTML })).headers.get('etag')!;
    local.files.set('index.html', encode(`${INDEX}<!-- v2 -->`));
    const after = await localApp.request('/', { headers: { ...HTML, 'if-none-match': before } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before);
  });

  test('cross-origin GET from an allowed origin gets CORS headers like any BFF response', async () => {
    const response = await app.request('/assets/app-abc.js', { headers: { origin: 'http://localhost:8000' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8000');
  });
});

/** node:zlib as the server runtimes have it, counting every compression it is asked for. */
function countingCompressor(inner: Compressor = createZlibCompressor()): Compressor & { calls: ContentCoding[] } {
  const calls: ContentCoding[] = [];
  return {
    calls,
    codings: inner.codings,
    encodesResponses: inner.encodesResponses,
    compress(bytes, coding) {
      calls.push(coding);
      return inner.compress(bytes, coding);
    },
  };
}

const BIG_JS = `export const rows = [${Array.from({ length: 300 }, (_, id) => `{ id: ${id}, name: "row ${id}", ok: ${id % 3 === 0} }`).join(', ')}];`;
const BIG_CSS = Array.from({ length: 60 }, (_, n) => `.c${n} { margin: ${n}px; padding: 0 ${n}px; }`).join('\n');
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">${'<rect width="1" height="1" fill="#000"/>'.repeat(20)}</svg>`;
const BIG_INDEX = `<!doctype html><html lang="en"><head><meta charset="UTF-8" /><meta name="viewport" content="width=device-width, initial-scale=1.0" /><title>BionicPRO reports</title><script type="module" crossorigin src="/assets/index-abc.js"></script><link rel="stylesheet" crossorigin href="/assets/index-abc.css"></head><body><div id="root"></div></body></html>`;
const PNG = Array.from({ length: 600 }, (_, n) => String.fromCharCode(33 + ((n * 7919) % 90))).join('');

async function bytesOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

/** The body as the client would see it after undoing Content-Encoding. */
async function decodedText(response: Response): Promise<string> {
  const raw = await bytesOf(response);
  const coding = response.headers.get('content-encoding');
  const decoded = coding === 'br' ? brotliDecompressSync(raw) : coding === 'gzip' ? gunzipSync(raw) : raw;
  return decoded.toString('utf8');
}

describe('frontend assets: compression', () => {
  const compressedDist = () =>
    memoryDist({ 'index.html': BIG_INDEX, 'assets/index-abc.js': BIG_JS, 'assets/index-abc.css': BIG_CSS, 'assets/logo-x.svg': SVG, 'assets/app-abc.js': APP_JS, 'assets/photo-x.png': PNG, 'assets/font-x.woff2': PNG });

  test('br when accepted, gzip when only gzip, identity otherwise; the body decodes to the file, Content-Length is what is sent', async () => {
    const { app } = await bffWith(compressedDist(), countingCompressor());
    const cases: [string | undefined, string | null][] = [
      ['gzip, deflate, br, zstd', 'br'],
      ['br', 'br'],
      ['gzip;q=1, br;q=1', 'br'],
      ['gzip, br;q=0.5', 'gzip'],
      ['gzip', 'gzip'],
      ['x-gzip', 'gzip'],
      ['gzip, deflate', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['*', 'br'],
      ['identity', null],
      ['gzip;q=0', null],
      ['br;q=0, gzip;q=0', null],
      ['deflate', null],
      [undefined, null],
    ];
    for (const [path, text] of [['/assets/index-abc.js', BIG_JS], ['/assets/index-abc.css', BIG_CSS], ['/assets/logo-x.svg', SVG], ['/', BIG_INDEX]] as const) {
      for (const [acceptEncoding, expected] of cases) {
        const headers: Record<string, string> = { ...HTML };
        if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
        const response = await app.request(path, { headers });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-encoding')).toBe(expected);
        expect(response.headers.get('vary')).toContain('Accept-Encoding');
        const raw = await bytesOf(response.clone());
        expect(response.headers.get('content-length')).toBe(String(raw.byteLength));
        if (expected) expect(raw.byteLength).toBeLessThan(text.length);
        expect(await decodedText(response)).toBe(text);
      }
    }
  });

  test('each coding has its own ETag; If-None-Match with any of them → 304 in every coding', async () => {
    const { app } = await bffWith(compressedDist(), countingCompressor());
    for (const path of ['/assets/index-abc.js', '/reports/2026-11-24']) {
      const etagOf = async (acceptEncoding: string) => (await app.request(path, { headers: { ...HTML, 'accept-encoding': acceptEncoding } })).headers.get('etag')!;
      const tags = { br: await etagOf('br'), gzip: await etagOf('gzip'), identity: await etagOf('identity') };
      expect(tags.identity).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
      expect(tags.gzip).toBe(tags.identity.replace(/"$/, '-gzip"'));
      expect(tags.br).toBe(tags.identity.replace(/"$/, '-br"'));
      for (const [coding, acceptEncoding] of [['br', 'br, gzip'], ['gzip', 'gzip'], ['identity', 'identity']] as const) {
        for (const ifNoneMatch of [tags.br, tags.gzip, tags.identity, `W/${tags.gzip}`, `"other", ${tags.br}`]) {
          const response = await app.request(path, { headers: { ...HTML, 'accept-encoding': acceptEncoding, 'if-none-match': ifNoneMatch } });
          expect(response.status).toBe(304);
          expect(response.headers.get('etag')).toBe(tags[coding]);
          expect(response.headers.get('vary')).toContain('Accept-Encoding');
          expect(await response.text()).toBe('');
        }
        const other = await app.request(path, { headers: { ...HTML, 'accept-encoding': acceptEncoding, 'if-none-match': '"other-br"' } });
        expect(other.status).toBe(200);
      }
    }
  });

  test('small files, images and fonts go out as they are, without Vary on the coding', async () => {
    const compressor = countingCompressor();
    const { app } = await bffWith(compressedDist(), compressor);
    for (const [path, text] of [['/assets/app-abc.js', APP_JS], ['/assets/photo-x.png', PNG], ['/assets/font-x.woff2', PNG]] as const) {
      const response = await app.request(path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(response.headers.get('vary') ?? '').not.toContain('Accept-Encoding');
      expect(response.headers.get('content-length')).toBe(String(text.length));
      expect(await response.text()).toBe(text);
    }
    expect(compressor.calls).toEqual([]);
  });

  test('HEAD: the compressed representation’s headers, no body', async () => {
    const { app } = await bffWith(compressedDist(), countingCompressor());
    const get = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'br' } });
    const length = (await bytesOf(get)).byteLength;
    for (const path of ['/assets/index-abc.js', '/']) {
      const head = await app.request(path, { method: 'HEAD', headers: { ...HTML, 'accept-encoding': 'br' } });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-encoding')).toBe('br');
      expect(head.headers.get('etag')).toEndWith('-br"');
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
      expect(await head.text()).toBe('');
    }
    const head = await app.request('/assets/index-abc.js', { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect(head.headers.get('content-length')).toBe(String(length));
  });

  test('an asset is compressed once per coding, also when the first requests come together', async () => {
    const compressor = countingCompressor();
    const { app } = await bffWith(compressedDist(), compressor);
    const fetchJs = async (acceptEncoding: string) => decodedText(await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': acceptEncoding } }));
    const first = await Promise.all(Array.from({ length: 10 }, (_, n) => fetchJs(n % 2 ? 'br' : 'gzip')));
    for (let round = 0; round < 5; round++) first.push(await fetchJs('br'), await fetchJs('gzip'), await fetchJs('identity'));
    await app.request('/assets/index-abc.js', { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect(first.every((text) => text === BIG_JS)).toBe(true);
    expect(compressor.calls.toSorted()).toEqual(['br', 'gzip']);
    // The unchanged index.html is also compressed once per coding, though its tag is checked each time.
    for (let round = 0; round < 3; round++) await app.request('/', { headers: { ...HTML, 'accept-encoding': 'br' } });
    expect(compressor.calls.filter((coding) => coding === 'br')).toHaveLength(2);
  });

  test('after a rebuild, index.html is the new one in every coding, under a new tag', async () => {
    const dist = compressedDist();
    const compressor = countingCompressor();
    const { app } = await bffWith(dist, compressor);
    const codings = ['br', 'gzip', 'identity'];
    const before = new Map<string, string>();
    for (const coding of codings) {
      const response = await app.request('/reports/2026-11-24', { headers: { ...HTML, 'accept-encoding': coding } });
      expect(await decodedText(response)).toBe(BIG_INDEX);
      before.set(coding, response.headers.get('etag')!);
    }
    const rebuilt = BIG_INDEX.replaceAll('index-abc', 'index-def');
    dist.files.set('index.html', encode(rebuilt));
    for (const coding of codings) {
      for (const path of ['/reports/2026-11-24', '/index.html']) {
        const response = await app.request(path, { headers: { ...HTML, 'accept-encoding': coding, 'if-none-match': before.get(coding)! } });
        expect(response.status).toBe(200);
        expect(response.headers.get('etag')).not.toBe(before.get(coding)!);
        expect(await decodedText(response)).toBe(rebuilt);
      }
    }
    expect(compressor.calls.toSorted()).toEqual(['br', 'br', 'gzip', 'gzip']);
  });

  test('compressed copies stay within the byte budget; a copy that would not fit is not made', async () => {
    const dist = memoryDist({ 'assets/index-abc.js': BIG_JS, 'assets/index-abc.css': BIG_CSS });
    const compressor = countingCompressor();
    const app = new OpenAPIHono<BffEnv>();
    // Room for the JS file's br copy (reserved at the file's size while it is made), not for its gzip copy plus the CSS.
    registerFrontendAssets(app, { frontendAssets: dist, compressor }, { compressedBudgetBytes: BIG_JS.length + 10 });
    const js = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'br' } });
    expect(js.headers.get('content-encoding')).toBe('br');
    const css = await app.request('/assets/index-abc.css', { headers: { 'accept-encoding': 'br' } });
    expect(css.headers.get('content-encoding')).toBe('br');
    const jsGzip = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(jsGzip.headers.get('content-encoding')).toBeNull();
    expect(jsGzip.headers.get('etag')).not.toContain('-gzip');
    expect(jsGzip.headers.get('vary')).toContain('Accept-Encoding');
    expect(await jsGzip.text()).toBe(BIG_JS);
    expect(compressor.calls).toEqual(['br', 'br']);
    // The copies made are kept and served.
    expect(await decodedText(await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'br' } }))).toBe(BIG_JS);
    expect(compressor.calls).toEqual(['br', 'br']);
  });

  test('workerd (the runtime encodes responses): Content-Encoding set on the identity bytes, never compressed here', async () => {
    const { app } = await bffWith(compressedDist(), createRuntimeEncoding());
    const response = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('br');
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
    expect(response.headers.get('vary')).toContain('Accept-Encoding');
    // What the worker hands workerd is the file itself; workerd encodes it on the way out.
    expect(await response.text()).toBe(BIG_JS);
    const identity = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'identity' } });
    expect(identity.headers.get('content-encoding')).toBeNull();
    expect(identity.headers.get('content-length')).toBe(String(BIG_JS.length));
    const notModified = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'br', 'if-none-match': response.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
  });
});

describe('frontend assets: error', () => {
  test('a missing /assets/ file is a 404 envelope, never the app, even for a browser', async () => {
    const { app } = await bffWith(memoryDist({ 'index.html': INDEX }));
    for (const headers of [HTML, JSON_ONLY]) {
      await expectEnvelope(await app.request('/assets/x.js', { headers }), 404, 'not_found');
      await expectEnvelope(await app.request('/assets/', { headers }), 404, 'not_found');
    }
  });

  test('a client that does not ask for HTML gets the 404 envelope on unknown paths', async () => {
    const { app } = await bffWith(memoryDist({ 'index.html': INDEX }));
    await expectEnvelope(await app.request('/reports/2026-11-24', { headers: JSON_ONLY }), 404, 'not_found');
    await expectEnvelope(await app.request('/reports/2026-11-24'), 404, 'not_found');
    await expectEnvelope(await app.request('/nope', { headers: { accept: '*/*' } }), 404, 'not_found');
    await expectEnvelope(await app.request('/nope', { headers: { accept: 'text/html;q=0, application/json' } }), 404, 'not_found');
    await expectEnvelope(await app.request('/robots.txt', { headers: JSON_ONLY }), 404, 'not_found');
  });

  test('the BFF’s own paths keep their answers (routes registered before the app win)', async () => {
    const dist = memoryDist({ 'index.html': INDEX });
    const { app, upstreamCalls } = await bffWith(dist);
    const me = await app.request('/auth/me', { headers: HTML });
    await expectEnvelope(me, 401, 'unauthorized');
    const api = await app.request('/api/reports/summary', { headers: HTML });
    await expectEnvelope(api, 401, 'unauthorized');
    expect(upstreamCalls).toEqual([]);
    const live = await app.request('/health/live', { headers: HTML });
    expect(live.status).toBe(200);
    expect(((await live.json()) as { service: string }).service).toBe('bff');
    const openapi = await app.request('/openapi.json', { headers: HTML });
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.0.0');
    const login = await app.request('/auth/login?returnTo=/reports/2026-11-24', { headers: HTML });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toStartWith('http://kc.invalid/');
    // Unknown paths under what the BFF owns are its 404, not the app.
    for (const path of ['/auth/nope', '/auth', '/health/nope', '/health']) {
      await expectEnvelope(await app.request(path, { headers: HTML }), 404, 'not_found');
    }
    // /api itself belongs to the proxy (Hono's /api/* matches it): a session is asked for first.
    await expectEnvelope(await app.request('/api', { headers: HTML }), 401, 'unauthorized');
    expect(dist.seen).toEqual([]);
  });

  test('only GET and HEAD: other methods never read a file', async () => {
    const dist = memoryDist({ 'index.html': INDEX, 'assets/app-abc.js': APP_JS });
    const { app } = await bffWith(dist);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of ['/', '/assets/app-abc.js', '/reports/2026-11-24']) {
        const response = await app.request(path, { method, headers: { ...HTML, origin: ORIGIN } });
        await expectEnvelope(response, 404, 'not_found');
      }
    }
    // Without an Origin the cross-site check answers first.
    expect((await app.request('/', { method: 'POST', headers: HTML })).status).toBe(403);
    expect(dist.seen).toEqual([]);
  });

  test('without a reader the BFF serves no static files (as before)', async () => {
    const { app } = await bffWith(undefined);
    await expectEnvelope(await app.request('/', { headers: HTML }), 404, 'not_found');
    await expectEnvelope(await app.request('/assets/app-abc.js', { headers: HTML }), 404, 'not_found');
  });
});

describe('frontend assets: security', () => {
  const TRAVERSALS = [
    '/assets/../../etc/passwd',
    '/%2e%2e/x',
    '/%2E%2E/%2e%2e/etc/passwd',
    '/assets/..%2fx',
    '/assets/..%2f..%2fetc%2fpasswd',
    '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/..%5c..%5cetc%5cpasswd',
    '/assets\\..\\..\\etc\\passwd',
    '/..%5cindex.html',
    '/assets/app-abc.js%00.png',
    '/%00',
    '/assets/%ff%fe',
    '/assets/.%2e/x',
    '//etc/passwd',
    '/assets//etc/passwd',
    '/.env',
    '/assets/.env',
    '/%2fetc%2fpasswd',
  ];

  test('traversal attempts never reach the reader and are answered 400 or 404 (or the app itself)', async () => {
    const dist = memoryDist({ 'index.html': INDEX, 'assets/app-abc.js': APP_JS });
    const { app } = await bffWith(dist);
    for (const path of TRAVERSALS) {
      for (const headers of [JSON_ONLY, HTML]) {
        const response = await app.request(`http://localhost:8000${path}`, { headers });
        if (headers === HTML && response.status === 200) {
          // A navigation to a normalised path (/etc/passwd) loads the app, never another file.
          expect(await response.text()).toBe(INDEX);
          continue;
        }
        expect([400, 404]).toContain(response.status);
        const body = (await response.json()) as { error: { code: string } };
        expect(['bad_request', 'not_found']).toContain(body.error.code);
      }
    }
    expect(dist.seen.filter((path) => path !== 'index.html')).toEqual([]);
    for (const path of dist.seen) expect(path).not.toMatch(/\.\.|\\|\0|^\//);
  });

  test('the raw-path check refuses what URL parsing leaves in place', () => {
    for (const bad of ['/assets/../x', '/a/./b', '/..', '/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/%00', '/a%0a', '/%zz', '//x', '/a//b', 'assets/x', '/%2e%2e', '/.%2e/x']) {
      expect(appPathSegments(bad)).toBeUndefined();
    }
    expect(appPathSegments('/')).toEqual(['']);
    expect(appPathSegments('/reports/')).toEqual(['reports', '']);
    expect(appPathSegments('/assets/app-abc.js')).toEqual(['assets', 'app-abc.js']);
    expect(appPathSegments('/admin/users/j%C3%B6rg')).toEqual(['admin', 'users', 'jörg']);
  });

  test('Accept: only an explicit text/html with q > 0 counts as a navigation', () => {
    expect(acceptsHtml(HTML.accept)).toBe(true);
    expect(acceptsHtml('text/html')).toBe(true);
    expect(acceptsHtml('TEXT/HTML; q=0.5')).toBe(true);
    expect(acceptsHtml('text/html;q=0')).toBe(false);
    expect(acceptsHtml('*/*')).toBe(false);
    expect(acceptsHtml('application/json')).toBe(false);
    expect(acceptsHtml(undefined)).toBe(false);
  });
});

describe('frontend dist on node:fs', () => {
  let base: string;
  let dist: string;
  beforeAll(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'bionicpro-dist-')));
    dist = join(base, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await mkdir(join(base, 'outside'));
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'assets', 'app-abc.js'), APP_JS);
    await writeFile(join(base, 'outside', 'secret.txt'), 'secret');
    await writeFile(join(base, 'dist-sibling.txt'), 'sibling');
    await symlink(join(base, 'outside', 'secret.txt'), join(dist, 'assets', 'leak.js'));
    await symlink(join(base, 'outside'), join(dist, 'assets', 'out'));
    await symlink(join(dist, 'assets', 'app-abc.js'), join(dist, 'inner.js'));
    await mkdir(join(base, 'no-index'));
    await writeFile(join(base, 'a-file'), 'x');
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test('reads files under the root, and only those', async () => {
    const reader = createDistReader(dist);
    const text = async (path: string) => {
      const bytes = await reader.read(path);
      return bytes && new TextDecoder().decode(bytes);
    };
    expect(await text('index.html')).toBe(INDEX);
    expect(await text('assets/app-abc.js')).toBe(APP_JS);
    expect(await text('inner.js')).toBe(APP_JS);
    for (const path of ['../outside/secret.txt', 'assets/../../outside/secret.txt', '../dist-sibling.txt', join(base, 'outside', 'secret.txt'), '/etc/passwd', '', '.', 'assets', 'nope.js', 'index.html/x']) {
      expect(await text(path)).toBeUndefined();
    }
  });

  test('a symlink in the build that points outside it is refused', async () => {
    const reader = createDistReader(dist);
    expect(await reader.read('assets/leak.js')).toBeUndefined();
    expect(await reader.read('assets/out/secret.txt')).toBeUndefined();
  });

  test('FRONTEND_DIST_DIR is checked at start: a directory holding index.html', async () => {
    for (const dir of [join(base, 'missing'), join(base, 'no-index'), join(base, 'a-file')]) {
      const error = await openFrontendDist(dir).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('FRONTEND_DIST_DIR');
    }
    expect(() => loadBffConfig({ ...ENV, FRONTEND_DIST_DIR: '' })).toThrow(/FRONTEND_DIST_DIR/);
    expect(loadBffConfig(ENV).FRONTEND_DIST_DIR).toBeUndefined();
  });

  test('the BFF over the node:fs reader: the app, its assets, no escape', async () => {
    const { app } = await bffWith(await openFrontendDist(dist));
    expect(await (await app.request('/reports/2026-11-24', { headers: HTML })).text()).toBe(INDEX);
    expect(await (await app.request('/assets/app-abc.js')).text()).toBe(APP_JS);
    await expectEnvelope(await app.request('/assets/leak.js'), 404, 'not_found');
    await expectEnvelope(await app.request('/assets/out/secret.txt'), 404, 'not_found');
  });
});
