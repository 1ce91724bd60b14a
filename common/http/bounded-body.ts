import type { MiddlewareHandler } from 'hono';
import { readRequestBodyWithin } from './body-limit.ts';

/**
 * Route middleware: the request body, read through body-limit.ts (413 as soon as `maxBytes` is
 * crossed, Content-Length or not), then handed on as bytes so validators, signature checks and
 * handlers read the bounded copy instead of the socket. Hono's own bodyLimit wraps the stream but
 * never cancels the source and only answers once a handler has tried to read it; this refuses
 * before any handler runs.
 */
export function boundedBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.raw.body === null) return next();
    const bytes = await readRequestBodyWithin(c.req.raw, maxBytes);
    // Stream chunks and the joined copy are ArrayBuffer-backed; the type only allows for a SharedArrayBuffer.
    c.req.raw = new Request(c.req.raw, { body: bytes as Uint8Array<ArrayBuffer> });
    await next();
  };
}
