import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { signPurgeRequest, signReportUrl } from '../../../common/cdn/signing.ts';
import { createOwnerRefs } from '../../../common/identity/owner-ref.ts';
import { ROOT } from '../../../tools/kit/paths.ts';
import { localS3Client } from '../../../stack/services/s3.ts';
import { s3Settings } from '../../../stack/services/s3-server.ts';
import { completeKeycloakLogin, loginThroughBff, TestBrowser } from '../../helpers/keycloak-login.ts';
import { APP_ORIGIN, findTokenLeaks, LOGIN_TIMEOUT_MS, stackEnv, startCore, type RunningProcess } from '../support.ts';
import { selectedRuntimes, startEdge, type RunningEdge } from './harness.ts';

/**
 * One HTTP contract, run against the edge started from its entry file on every runtime: Node,
 * Bun, Deno and workerd (wrangler's bundle on Miniflare). Real Keycloak, Redis (Durable Objects on
 * workerd), core and S3.
 */
const LOG_DIR = join(ROOT, 'artifacts', 'edge-contract');
const s3 = localS3Client(s3Settings(stackEnv), 10_000);
const prefix = `edge-contract-${crypto.randomUUID().slice(0, 8)}`;
const objectKey = `${prefix}/daily/2026-11-24/report.json`;
const objectBody = JSON.stringify({ day: '2026-11-24', hours: Array.from({ length: 24 }, (_, hour) => ({ hour, movements: hour * 11, battery_pct: 100 - hour })) });
/**
 * A prosthesis owner per runtime, each with their own Keycloak SSO session: logout ends the SSO
 * session (the revoked refresh token was its only client), and a person's TOTP codes are single-use,
 * so sharing one person would make each runtime wait for the next code period.
 */
const PERSON: Record<string, string> = { node: 'marco.rossi', bun: 'sophie.martin', deno: 'olga.smirnova', workerd: 'dmitry.kuznetsov' };

beforeAll(async () => {
  await s3.send(new PutObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: objectKey, Body: objectBody, ContentType: 'application/json' }));
});

afterAll(async () => {
  await s3.send(new DeleteObjectCommand({ Bucket: stackEnv.S3_BUCKET, Key: objectKey })).catch(() => {});
  s3.destroy();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Raw HTTP (no automatic decompression), to see exactly what the edge sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    // A hung edge fails this request with a message rather than the whole test with a timeout.
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${url} within 15 s`)));
    req.end();
  });
}

function decoded(response: { headers: Record<string, string | string[] | undefined>; body: Buffer }): string {
  const coding = response.headers['content-encoding'];
  if (coding === 'gzip') return gunzipSync(response.body).toString();
  if (coding === 'br') return brotliDecompressSync(response.body).toString();
  return response.body.toString();
}

async function allOf(response: Response): Promise<string> {
  return `${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await response.clone().text()}`;
}

for (const runtime of selectedRuntimes()) {
  describe(`edge on ${runtime}`, () => {
    let edge: RunningEdge;
    let core: RunningProcess | undefined;
    const person = PERSON[runtime]!;
    const keycloak = new TestBrowser();
    /** Sessions a test leaves open (to keep the Keycloak SSO session for the next test), signed out at the end. */
    const openSessions: TestBrowser[] = [];

    beforeAll(async () => {
      edge = await startEdge(runtime, async (cdnUrl) => {
        core = await startCore({ CDN_URL: cdnUrl });
        return core.url;
      });
    }, 120_000);

    afterAll(async () => {
      for (const browser of openSessions) await browser.fetch(`${edge.bffUrl}/auth/logout`, { method: 'POST', headers: { origin: APP_ORIGIN } }).catch(() => {});
      await edge?.stop();
      await core?.stop();
      // What the edge and core printed, for a failure that only shows on another machine.
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `${runtime}.log`), `${edge?.output() ?? ''}\n--- core ---\n${core?.output() ?? ''}`);
    });

    test('both apps answer /health/live with a request id and /health/ready against their dependencies; unknown routes get the envelope', async () => {
      for (const [url, service] of [
        [edge.bffUrl, 'bff'],
        [edge.cdnUrl, 'cdn'],
      ] as const) {
        const live = await fetch(`${url}/health/live`);
        expect(live.status).toBe(200);
        expect(((await live.json()) as { service: string }).service).toBe(service);
        expect(live.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
        // Ready against the real dependencies: store (Redis or a Durable Object), Keycloak, core; S3.
        const ready = await fetch(`${url}/health/ready`);
        expect(ready.status, await allOf(ready)).toBe(200);
        expect(((await ready.json()) as { status: string }).status).toBe('ready');
        const missing = await fetch(`${url}/no/such/route`);
        expect(missing.status).toBe(404);
        expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    });

    test('BFF: no session → 401 envelope with security headers; cross-site POST refused', async () => {
      const me = await fetch(`${edge.bffUrl}/auth/me`);
      expect(me.status).toBe(401);
      expect(((await me.json()) as { error: { code: string; details: { reason: string } } }).error).toMatchObject({ code: 'unauthorized', details: { reason: 'no_session' } });
      expect(me.headers.get('x-content-type-options')).toBe('nosniff');
      expect(me.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(me.headers.get('x-frame-options')).toBe('DENY');
      const noOrigin = await fetch(`${edge.bffUrl}/auth/logout`, { method: 'POST' });
      expect(noOrigin.status).toBe(403);
      const evil = await fetch(`${edge.bffUrl}/auth/logout`, { method: 'POST', headers: { origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
    });

    test('BFF: a replayed callback is refused', async () => {
      const browser = new TestBrowser();
      browser.copyCookiesFrom(keycloak, stackEnv.KEYCLOAK_URL!);
      const start = await browser.fetch(`${edge.bffUrl}/auth/login`);
      expect(start.status).toBe(302);
      const callback = await completeKeycloakLogin(start.headers.get('location')!, { env: stackEnv, username: person, browser });
      keycloak.copyCookiesFrom(browser, stackEnv.KEYCLOAK_URL!);
      const first = await browser.fetch(`${edge.bffUrl}/auth/callback${callback.search}`);
      expect(new URL(first.headers.get('location')!).searchParams.get('error')).toBeNull();
      browser.setCookie(edge.bffUrl, 'bff_login', 'replayed');
      const replay = await browser.fetch(`${edge.bffUrl}/auth/callback${callback.search}`);
      expect(replay.status).toBe(302);
      expect(new URL(replay.headers.get('location')!).searchParams.get('error')).toBe('invalid_state');
      openSessions.push(browser);
    }, LOGIN_TIMEOUT_MS);

    test('BFF: login → callback → me → api (core) → signed CDN link → logout, no token ever reaches the browser', async () => {
      const browser = new TestBrowser();
      browser.copyCookiesFrom(keycloak, stackEnv.KEYCLOAK_URL!);
      const login = await loginThroughBff({ bffUrl: edge.bffUrl, username: person, env: stackEnv, browser, returnTo: '/reports' });
      keycloak.copyCookiesFrom(browser, stackEnv.KEYCLOAK_URL!);
      expect(login.location.toString()).toBe(`${APP_ORIGIN}/reports`);
      expect(login.cookieName).toBe('bff_session');

      const me = await browser.fetch(`${edge.bffUrl}/auth/me`);
      expect(me.status).toBe(200);
      expect(((await me.clone().json()) as { username: string }).username).toBe(person);
      expect(findTokenLeaks(await allOf(me))).toEqual([]);

      const list = await browser.fetch(`${edge.bffUrl}/api/reports?limit=3`);
      expect(list.status).toBe(200);
      // Core names the owner by their pseudonymous ref (issue 11), never by username.
      const ref = await (await createOwnerRefs(stackEnv.OWNER_REF_KEY!)).of(person);
      expect((await list.clone().json()) as object).toMatchObject({ user_id: ref, limit: 3 });
      expect(findTokenLeaks(await allOf(list))).toEqual([]);

      // Core hands out a signed link to this runtime's CDN; the CDN serves the object it names.
      const link = await browser.fetch(`${edge.bffUrl}/api/reports/cdn/list`);
      expect(link.status).toBe(200);
      const { url } = (await link.json()) as { url: string };
      expect(url.startsWith(`${edge.cdnUrl}/reports/${ref}/`)).toBe(true);
      expect(url).not.toContain(person);
      const object = await fetch(url, { headers: { origin: APP_ORIGIN } });
      expect(object.status).toBe(200);
      expect(object.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(((await object.json()) as { user_id: string }).user_id).toBe(ref);

      const out = await browser.fetch(`${edge.bffUrl}/auth/logout`, { method: 'POST', headers: { origin: APP_ORIGIN } });
      expect(out.status).toBe(200);
      expect(findTokenLeaks(await allOf(out))).toEqual([]);
      expect((await browser.fetch(`${edge.bffUrl}/auth/me`)).status).toBe(401);
    }, LOGIN_TIMEOUT_MS);

    test('CDN: MISS then HIT, 304 on If-None-Match, compressed when accepted', async () => {
      const url = await signReportUrl({ cdnUrl: edge.cdnUrl, key: objectKey, expiresAtSeconds: nowSeconds() + 300, signingKey: stackEnv.CDN_SIGNING_KEY! });
      const first = await rawGet(url, { 'accept-encoding': 'identity' });
      expect(first.status).toBe(200);
      expect(['MISS', 'HIT']).toContain(first.headers['x-cache-status'] as string);
      expect(decoded(first)).toBe(objectBody);
      const second = await rawGet(url, { 'accept-encoding': 'gzip' });
      expect(second.headers['x-cache-status']).toBe('HIT');
      expect(second.headers['content-encoding']).toBe('gzip');
      expect(decoded(second)).toBe(objectBody);
      const etag = second.headers.etag as string;
      expect(etag).toMatch(/^(W\/)?"[A-Za-z0-9_-]{24}(-gzip|-br)?"$/);
      const notModified = await rawGet(url, { 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(notModified.body.length).toBe(0);
    });

    test('CDN: tampered or expired links are 403', async () => {
      const url = new URL(await signReportUrl({ cdnUrl: edge.cdnUrl, key: objectKey, expiresAtSeconds: nowSeconds() + 300, signingKey: stackEnv.CDN_SIGNING_KEY! }));
      const sig = url.searchParams.get('sig')!;
      url.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
      const tampered = await fetch(url);
      expect(tampered.status).toBe(403);
      expect(((await tampered.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('bad_signature');
      const expired = await fetch(await signReportUrl({ cdnUrl: edge.cdnUrl, key: objectKey, expiresAtSeconds: nowSeconds() - 5, signingKey: stackEnv.CDN_SIGNING_KEY! }));
      expect(expired.status).toBe(403);
      expect(((await expired.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('expired');
    });

    test('CDN: purge needs a signature; a signed prefix purge makes the next read a MISS', async () => {
      const body = JSON.stringify({ prefixes: [`${prefix}/`] });
      const unsigned = await fetch(`${edge.cdnUrl}/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(unsigned.status).toBe(401);
      const url = await signReportUrl({ cdnUrl: edge.cdnUrl, key: objectKey, expiresAtSeconds: nowSeconds() + 300, signingKey: stackEnv.CDN_SIGNING_KEY! });
      await fetch(url);
      expect((await fetch(url)).headers.get('x-cache-status')).toBe('HIT');
      const headers = await signPurgeRequest(body, stackEnv.CDN_SIGNING_KEY!, nowSeconds());
      const purged = await fetch(`${edge.cdnUrl}/purge`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(purged.status).toBe(200);
      expect(((await purged.json()) as { purged: unknown }).purged).toEqual({ prefixes: [`${prefix}/`] });
      expect((await fetch(url)).headers.get('x-cache-status')).toBe('MISS');
      // The same signed request again: its nonce is claimed in the edge's store (Redis, Durable Object).
      const replayed = await fetch(`${edge.cdnUrl}/purge`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(replayed.status).toBe(409);
      expect(((await replayed.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('replayed');
    });
  });
}
