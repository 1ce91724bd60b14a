import { describe, expect, test } from 'bun:test';
import { createServiceApp } from '../../common/http/service-app.ts';
import { createMemoryLogger } from '../../common/log.ts';
import { registerApiProxy } from '../../edge/bff/api-proxy.ts';
import type { BffDeps, BffEnv } from '../../edge/bff/context.ts';
import { mapBffError } from '../../edge/bff/errors.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';

/**
 * Review finding: the /api/* proxy reads the request body (up to API_MAX_BODY_BYTES) before the
 * session check (the Bun fix of tests/edge/body-limit), so an anonymous caller could make the BFF
 * buffer 1 MiB per connection. A request without a well-formed session cookie is now answered 401
 * before one byte of its body is pulled; a well-formed one still has its body read first.
 */
function setup() {
  const calls = { validate: 0, upstream: 0 };
  const deps = {
    config: { BFF_PUBLIC_URL: 'http://localhost:8000', CORE_URL: 'http://127.0.0.1:1', API_MAX_BODY_BYTES: 1024 * 1024, UPSTREAM_TIMEOUT_MS: 1000, API_RATE_LIMIT: 100, API_RATE_WINDOW_SECONDS: 60 },
    logger: createMemoryLogger(),
    now: Date.now,
    store: createMemoryStore(),
    sessions: { validate: async () => (calls.validate++, { ok: false, reason: 'unknown' }) },
    fetchUpstream: async () => (calls.upstream++, new Response('unexpected')),
    clientAddress: () => '127.0.0.1',
  } as unknown as BffDeps;
  const app = createServiceApp<BffEnv>({ logger: deps.logger, trustIncomingRequestId: false, mapError: mapBffError });
  registerApiProxy(app, deps);
  return { app, calls };
}

/** A 2 MiB body that counts the chunks the server pulls (highWaterMark 0: nothing is pulled unasked). */
function countingBody() {
  const pulled = { chunks: 0 };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled.chunks++;
        if (pulled.chunks > 32) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled };
}

function post(app: ReturnType<typeof setup>['app'], body: ReadableStream<Uint8Array>, cookie?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) };
  return app.request('/api/telemetry', { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

describe('/api/* proxy: no body read for a caller without a well-formed session cookie', () => {
  test('no cookie: 401 no_session (requireSession\'s shape), body untouched, no store call, connection closed', async () => {
    const { app, calls } = setup();
    const { body, pulled } = countingBody();
    const response = await post(app, body);
    expect(response.status).toBe(401);
    const payload = (await response.json()) as { error: { code: string; details: { reason: string } } };
    expect(payload.error.code).toBe('unauthorized');
    expect(payload.error.details.reason).toBe('no_session');
    expect(response.headers.get('connection')).toBe('close');
    expect(pulled.chunks).toBe(0);
    expect(calls).toEqual({ validate: 0, upstream: 0 });
  });

  test('a malformed cookie: 401 invalid_session, the cookie cleared, body untouched', async () => {
    const { app, calls } = setup();
    const { body, pulled } = countingBody();
    const response = await post(app, body, 'bff_session=not-a-token');
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe('invalid_session');
    expect(response.headers.get('set-cookie')).toContain('bff_session=;');
    expect(pulled.chunks).toBe(0);
    expect(calls.validate).toBe(0);
  });

  test('a well-formed cookie: the body is still read (bounded) before the session lookup, then the store decides', async () => {
    const { app, calls } = setup();
    const { body, pulled } = countingBody();
    const token = `${'a'.repeat(24)}.${'b'.repeat(24)}`;
    const response = await post(app, body, `bff_session=${token}`);
    // 2 MiB against the 1 MiB limit: cut off at the limit, as tests/edge/body-limit measures.
    expect(response.status).toBe(413);
    expect(pulled.chunks).toBeGreaterThan(0);
    expect(pulled.chunks).toBeLessThanOrEqual(17);
    expect(calls.upstream).toBe(0);
  });
});
