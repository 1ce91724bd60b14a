import type { OpenAPIHono } from '@hono/zod-openapi';
import { readRequestBodyWithin } from '../../common/http/body-limit.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { getRequestId } from '../../common/http/request-id.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { countApiRequest } from './api-rate-limit.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { headersForBrowser, headersForCore } from './proxy-headers.ts';
import { unauthenticated } from './errors.ts';
import { clearCookie, cookieNames, readCookie } from './session/cookies.ts';
import { currentSession, freshSession, requireSession } from './session/middleware.ts';
import { parseSessionToken } from './session/session-token.ts';

const BODYLESS = new Set(['GET', 'HEAD']);
/** Core's answers up to this size are read whole and sent with a length; larger ones stream through. */
const BUFFER_UPSTREAM_BYTES = 256 * 1024;

/**
 * Core down (refused, reset) or slow: 503 with Retry-After either way. A core restart is brief and
 * the browser should simply try again (issue 9's fault rule); a 502 without Retry-After read as broken.
 */
function upstreamFailure(error: unknown): ApiError {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  return new ApiError({
    code: ErrorCode.service_unavailable,
    message: timedOut ? 'Core did not answer in time' : 'Core is unreachable',
    details: { dependency: 'core' },
    retryAfterSeconds: 2,
    cause: error,
  });
}

/**
 * /api/* → core with the session's access token as bearer (refreshed first when close to expiry).
 * Method, path, query and body pass through; cookies and hop-by-hop headers do not; the request
 * id travels along so one id spans both services' logs. Bodies are bounded while they are read
 * (a chunked upload is cut off at API_MAX_BODY_BYTES with 413, never buffered past it).
 */
export function registerApiProxy(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  // The body is read (bounded) before the session checks, not after: Bun keeps taking a request's
  // body off the socket while a handler awaits something else, so a chunked upload waiting on the
  // session lookup or a token refresh was buffered at loopback speed (tests/edge/body-limit: +155 to
  // +320 MiB and 0.4-1 s before the 413 under load). Reading it first costs an unauthenticated
  // caller at most API_MAX_BODY_BYTES, so a caller without a well-formed session cookie is turned
  // away first: the cookie's syntax is checked (no store call), as requireSession would answer it.
  const names = cookieNames(deps.config.BFF_PUBLIC_URL);
  app.use('/api/*', async (c, next) => {
    const hasBody = !BODYLESS.has(c.req.method) && c.req.raw.body !== null;
    const cookie = readCookie(c, names.session);
    if (!parseSessionToken(cookie)) {
      const reason = cookie === undefined ? 'missing' : 'malformed';
      if (cookie !== undefined) clearCookie(c, names.session);
      // The unread body is not drained: the connection goes with the 401.
      if (hasBody) c.header('Connection', 'close');
      addToWideEvent(c, { session: reason });
      throw unauthenticated(reason === 'missing' ? 'no_session' : 'invalid_session');
    }
    if (hasBody) {
      let bytes: Uint8Array;
      try {
        bytes = await readRequestBodyWithin(c.req.raw, deps.config.API_MAX_BODY_BYTES);
      } catch (error) {
        // The rest of an oversized upload is not worth reading: the connection goes after the 413.
        if (error instanceof ApiError && error.status === 413) c.header('Connection', 'close');
        throw error;
      }
      c.set('apiBody', bytes);
    }
    await next();
  });
  app.use('/api/*', requireSession(deps, { alongside: countApiRequest(deps) }));
  app.all('/api/*', async (c) => {
    const before = currentSession(c);
    const fresh = await freshSession(c, deps);
    const incoming = new URL(c.req.url);
    const target = `${deps.config.CORE_URL}${incoming.pathname}${incoming.search}`;
    // Read once, bounded, by the first middleware above (a body-taking method without one sends an empty body).
    const body = BODYLESS.has(c.req.method) ? undefined : (c.get('apiBody') ?? new Uint8Array(0));
    // One timer per call, cleared once the answer is in: AbortSignal.timeout() left a 10 s timer
    // (and a DOMException when it fired) behind every request.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('Core did not answer in time', 'TimeoutError')), deps.config.UPSTREAM_TIMEOUT_MS);
    let upstream: Response;
    let buffered: ArrayBuffer | undefined;
    try {
      upstream = await deps.fetchUpstream(target, {
        method: c.req.method,
        headers: headersForCore(c.req.raw.headers, fresh.tokens.accessToken, getRequestId(c)),
        body: body as BodyInit | undefined,
        redirect: 'manual',
        signal: abort.signal,
      });
      const length = Number(upstream.headers.get('content-length') ?? NaN);
      if (c.req.method === 'HEAD' || !upstream.body) await upstream.body?.cancel();
      else if (length <= BUFFER_UPSTREAM_BYTES) buffered = await upstream.arrayBuffer();
    } catch (error) {
      clearTimeout(timer);
      throw upstreamFailure(error);
    }
    // A streamed answer keeps its timer: a stalled stream is cut at the same deadline.
    if (buffered !== undefined || !upstream.body || c.req.method === 'HEAD') clearTimeout(timer);
    addToWideEvent(c, { upstreamStatus: upstream.status, refreshed: fresh.session !== before });
    const responseBody = c.req.method === 'HEAD' ? null : (buffered ?? upstream.body);
    return new Response(responseBody, { status: upstream.status, statusText: upstream.statusText, headers: headersForBrowser(upstream.headers) });
  });
}
