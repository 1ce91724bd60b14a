import { ApiError, ErrorCode } from './errors.ts';

/**
 * Bounded request bodies, Web streams only (Node, Bun, Deno, workerd). `arrayBuffer()`/`text()`
 * read a body whole before anyone can look at its size, and a chunked request (no
 * Content-Length) can be of any size; these read it chunk by chunk and stop — cancelling the
 * stream — as soon as one byte more than the limit has arrived, so at most `maxBytes` (plus the
 * one chunk that crossed it) is ever held.
 */

export type BoundedRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large'; receivedBytes: number };

/** Reads a byte stream up to `maxBytes`; past it, cancels the stream and reports too_large. */
export async function readStreamWithin(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<BoundedRead> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new TypeError(`body-limit: maxBytes must be a non-negative integer, got ${maxBytes}`);
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        // Tells the producer (the socket) to stop; the caller answers 413 without waiting for the rest.
        await reader.cancel('body exceeds its size limit').catch(() => {});
        return { ok: false, reason: 'too_large', receivedBytes: received };
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! };
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

export function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError({ code: ErrorCode.payload_too_large, message: `Request body exceeds ${maxBytes} bytes`, details: { maxBytes } });
}

/**
 * A request's body as bytes, or a 413 ApiError: refused at once when Content-Length already says
 * too much, otherwise read as a stream and refused as soon as the limit is crossed. A
 * Content-Length smaller than the body (a lying client) cannot get more through: the stream is
 * counted either way.
 */
export async function readRequestBodyWithin(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const length = Number(declared);
    if (!/^\d+$/.test(declared.trim()) || !Number.isSafeInteger(length)) throw new ApiError({ code: ErrorCode.bad_request, message: 'Content-Length is not a number' });
    if (length > maxBytes) throw payloadTooLarge(maxBytes);
  }
  const read = await readStreamWithin(request.body, maxBytes);
  if (!read.ok) throw payloadTooLarge(maxBytes);
  return read.bytes;
}

/** Text of a bounded request body (UTF-8, as `Request.text()` decodes it). */
export async function readRequestTextWithin(request: Request, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readRequestBodyWithin(request, maxBytes));
}
