import type { OpenAPIHono } from '@hono/zod-openapi';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { getRequestId } from '../../common/http/request-id.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { sessionExpired } from './errors.ts';
import { headersForBrowser, headersForCore } from './proxy-headers.ts';
import { SessionExpired } from './session/refresh.ts';
import { clearSessionCookie, currentSession, requireSession } from './session/middleware.ts';

const BODYLESS = new Set(['GET', 'HEAD']);

async function readBodyWithin(request: Request, maxBytes: number): Promise<ArrayBuffer | undefined> {
  if (BODYLESS.has(request.method)) return undefined;
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = () => new ApiError({ code: ErrorCode.payload_too_large, message: `Request body exceeds ${maxBytes} bytes` });
  if (declared > maxBytes) throw tooLarge();
  const body = await request.arrayBuffer();
  if (body.byteLength > maxBytes) throw tooLarge();
  return body;
}

/**
 * /api/* → core with the session's access token as bearer (refreshed first when close to expiry).
 * Method, path, query and body pass through; cookies and hop-by-hop headers do not; the request
 * id travels along so one id spans both services' logs.
 */
export function registerApiProxy(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  app.use('/api/*', requireSession(deps));
  app.all('/api/*', async (c) => {
    let fresh;
    try {
      fresh = await deps.refresher.ensureFresh(currentSession(c));
    } catch (error) {
      if (error instanceof SessionExpired) {
        clearSessionCookie(c, deps);
        throw sessionExpired();
      }
      throw error;
    }
    const incoming = new URL(c.req.url);
    const target = `${deps.config.CORE_URL}${incoming.pathname}${incoming.search}`;
    const body = await readBodyWithin(c.req.raw, deps.config.API_MAX_BODY_BYTES);
    let upstream: Response;
    try {
      upstream = await deps.fetchUpstream(target, {
        method: c.req.method,
        headers: headersForCore(c.req.raw.headers, fresh.tokens.accessToken, getRequestId(c as never)),
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.config.UPSTREAM_TIMEOUT_MS),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ApiError({
        code: timedOut ? ErrorCode.service_unavailable : ErrorCode.bad_gateway,
        message: timedOut ? 'Core did not answer in time' : 'Core is unreachable',
        details: { dependency: 'core' },
        retryAfterSeconds: timedOut ? 2 : undefined,
        cause: error,
      });
    }
    addToWideEvent(c as never, { upstreamStatus: upstream.status, refreshed: fresh.session !== currentSession(c) });
    return new Response(c.req.method === 'HEAD' ? null : upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: headersForBrowser(upstream.headers) });
  });
}
