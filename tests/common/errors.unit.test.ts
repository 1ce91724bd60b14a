import { describe, expect, test } from 'bun:test';
import { createRoute, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { ApiError, codeToStatus, ErrorCode, statusToCode } from '../../common/http/errors.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import { createMemoryLogger } from '../../common/log.ts';

function buildApp(trustIncomingRequestId = true) {
  const logger = createMemoryLogger();
  const app = createServiceApp({ logger, trustIncomingRequestId });
  app.get('/api-error', () => {
    throw new ApiError({ code: ErrorCode.service_unavailable, message: 'ClickHouse is down', retryAfterSeconds: 5, details: { dependency: 'clickhouse' } });
  });
  app.get('/hono-error', () => {
    throw new HTTPException(401, { message: 'no token' });
  });
  app.get('/crash', () => {
    throw new Error('secret internals at /srv/db');
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/items/{id}',
      request: {
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1) }) } } },
      },
      responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({ id: z.number() }) } } } },
    }),
    (c) => c.json({ id: c.req.valid('param').id }, 200),
  );
  return { app, logger };
}

type Envelope = { error: { code: string; message: string; details?: unknown; requestId: string } };

describe('error envelope', () => {
  test('codeToStatus covers the agreed codes', () => {
    expect(codeToStatus('bad_request')).toBe(400);
    expect(codeToStatus('unauthorized')).toBe(401);
    expect(codeToStatus('forbidden')).toBe(403);
    expect(codeToStatus('not_found')).toBe(404);
    expect(codeToStatus('payload_too_large')).toBe(413);
    expect(codeToStatus('unprocessable')).toBe(422);
    expect(codeToStatus('too_many_requests')).toBe(429);
    expect(codeToStatus('internal')).toBe(500);
    expect(codeToStatus('service_unavailable')).toBe(503);
    expect(statusToCode(418)).toBe('bad_request');
    expect(statusToCode(504)).toBe('internal');
  });

  test('ApiError keeps its code, details and Retry-After', async () => {
    const { app } = buildApp();
    const res = await app.request('/api-error', { headers: { 'x-request-id': 'upstream-id-0001' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('x-request-id')).toBe('upstream-id-0001');
    const body = (await res.json()) as Envelope;
    expect(body).toEqual({ error: { code: 'service_unavailable', message: 'ClickHouse is down', details: { dependency: 'clickhouse' }, requestId: 'upstream-id-0001' } });
  });

  test("Hono's HTTPException keeps its status inside the envelope", async () => {
    const { app } = buildApp();
    const res = await app.request('/hono-error');
    expect(res.status).toBe(401);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).toBe('no token');
    expect(body.error.requestId).toBe(res.headers.get('x-request-id')!);
  });

  test('unknown errors answer a bare 500 and are logged with their stack', async () => {
    const { app, logger } = buildApp();
    const res = await app.request('/crash');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internals');
    expect(text).not.toContain('at ');
    expect((JSON.parse(text) as Envelope).error.code).toBe('internal');
    const logged = logger.lines.find((line) => line.event === 'request.unhandled_error');
    expect(JSON.stringify(logged)).toContain('secret internals');
    expect(logger.lines.find((line) => line.event === 'http.request')).toMatchObject({ status: 500, path: '/crash' });
  });

  test('schema failures: params → 400, body → 422, with issue paths', async () => {
    const { app } = buildApp();
    const badParam = await app.request('/items/abc', { method: 'POST', body: JSON.stringify({ name: 'x' }), headers: { 'content-type': 'application/json' } });
    expect(badParam.status).toBe(400);
    expect(((await badParam.json()) as Envelope).error.code).toBe('bad_request');
    const badBody = await app.request('/items/3', { method: 'POST', body: JSON.stringify({ name: '' }), headers: { 'content-type': 'application/json' } });
    expect(badBody.status).toBe(422);
    const body = (await badBody.json()) as Envelope;
    expect(body.error.code).toBe('unprocessable');
    expect(body.error.details).toEqual([expect.objectContaining({ path: 'name' })]);
    const ok = await app.request('/items/3', { method: 'POST', body: JSON.stringify({ name: 'a' }), headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
  });

  test('unknown route → 404 envelope', async () => {
    const { app } = buildApp();
    const res = await app.request('/missing');
    expect(res.status).toBe(404);
    expect(((await res.json()) as Envelope).error.code).toBe('not_found');
  });
});

describe('request id', () => {
  test('an insane incoming id is replaced', async () => {
    const { app } = buildApp();
    // Not hex: a fresh UUID can never contain it (one with "bad" did, 1 run in 4,096).
    const res = await app.request('/missing', { headers: { 'x-request-id': 'evil id <script>' } });
    const id = res.headers.get('x-request-id')!;
    expect(id).not.toContain('evil');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an untrusting app mints its own id', async () => {
    const { app } = buildApp(false);
    const res = await app.request('/missing', { headers: { 'x-request-id': 'upstream-id-0001' } });
    expect(res.headers.get('x-request-id')).not.toBe('upstream-id-0001');
  });
});
