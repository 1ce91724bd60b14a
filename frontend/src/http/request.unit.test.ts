import { afterEach, describe, expect, test } from 'bun:test';
import { ApiFailure, onSessionEnded, requestJson } from './request.ts';
import { envelope, restoreFetch, scriptFetch } from './scripted-fetch.ts';

/**
 * The request layer with a scripted fetch standing in for the network (pure logic: how
 * answers become data, null, or an ApiFailure; the real BFF and CDN are exercised by tests/e2e).
 */

afterEach(restoreFetch);

describe('requestJson', () => {
  test('an error envelope becomes an ApiFailure with its code, reason and request id', async () => {
    scriptFetch({ '/api/reports/summary': () => envelope(503, 'service_unavailable') });
    const failure = await requestJson('/api/reports/summary').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ kind: 'http', status: 503, code: 'service_unavailable', requestId: 'req-123' });
  });

  test('a 401 announces the end of the session, unless the caller expects to be signed out', async () => {
    const reasons: Array<string | undefined> = [];
    const stop = onSessionEnded((failure) => reasons.push(failure.reason));
    scriptFetch({ '/auth/me': () => envelope(401, 'session_expired', 'session_expired') });
    await requestJson('/auth/me').catch(() => undefined);
    await requestJson('/auth/me', { expectSignedOut: true }).catch(() => undefined);
    stop();
    expect(reasons).toEqual(['session_expired']);
  });

  test('no connection and a non-JSON answer are failures of their own kind', async () => {
    scriptFetch({ '/broken': () => new Response('<html>bad gateway</html>', { status: 200 }) });
    expect(await requestJson('/nowhere').catch((error: unknown) => (error as ApiFailure).kind)).toBe('network');
    expect(await requestJson('/broken').catch((error: unknown) => (error as ApiFailure).kind)).toBe('format');
  });
});
