import { describe, expect, test } from 'bun:test';
import { readRequestBodyWithin, readRequestTextWithin, readStreamWithin } from '../../common/http/body-limit.ts';
import { ApiError } from '../../common/http/errors.ts';

/** An endless byte source that counts what was pulled from it and whether it was cancelled. */
function endless(chunkBytes: number) {
  const state = { pulledBytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulledBytes += chunkBytes;
        controller.enqueue(new Uint8Array(chunkBytes).fill(97));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

function chunked(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

describe('readStreamWithin', () => {
  test('a body of exactly the limit is read whole, in order, across chunks', async () => {
    const result = await readStreamWithin(chunked([new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5])]), 5);
    expect(result).toEqual({ ok: true, bytes: new Uint8Array([1, 2, 3, 4, 5]) });
  });

  test('one byte over the limit is refused', async () => {
    const result = await readStreamWithin(chunked([new Uint8Array(3), new Uint8Array(3)]), 5);
    expect(result).toEqual({ ok: false, reason: 'too_large', receivedBytes: 6 });
  });

  test('an endless body stops being read as soon as the limit is crossed, and its source is cancelled', async () => {
    const { stream, state } = endless(64 * 1024);
    const result = await readStreamWithin(stream, 1024 * 1024);
    expect(result.ok).toBe(false);
    // The limit plus the one chunk that crossed it; nothing more was asked of the source.
    expect(state.pulledBytes).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    expect(state.cancelled).toBe(true);
  });

  test('no body is an empty body; a bad limit is a programming error', async () => {
    expect(await readStreamWithin(null, 10)).toEqual({ ok: true, bytes: new Uint8Array(0) });
    expect(readStreamWithin(null, -1)).rejects.toThrow(TypeError);
  });
});

describe('readRequestBodyWithin', () => {
  test('a declared Content-Length over the limit is refused with 413 before the body is touched', async () => {
    const { stream, state } = endless(1024);
    const request = new Request('http://x/', { method: 'POST', body: stream, headers: { 'content-length': '2048' }, duplex: 'half' } as RequestInit);
    expect(await statusOf(readRequestBodyWithin(request, 1024))).toBe(413);
    expect(state.pulledBytes).toBe(0);
  });

  test('a chunked body (no Content-Length) over the limit is refused with 413 after at most the limit and one chunk', async () => {
    const { stream, state } = endless(16 * 1024);
    const request = new Request('http://x/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(request.headers.get('content-length')).toBeNull();
    expect(await statusOf(readRequestBodyWithin(request, 100 * 1024))).toBe(413);
    // The Request's own stream may buffer a chunk or two ahead of the reader.
    expect(state.pulledBytes).toBeLessThanOrEqual(100 * 1024 + 3 * 16 * 1024);
  });

  test('a 413 carries the limit in its details', async () => {
    const request = new Request('http://x/', { method: 'POST', body: 'x'.repeat(11) });
    const error = await readRequestBodyWithin(request, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).details).toEqual({ maxBytes: 10 });
  });

  test('a Content-Length that is not a number is a 400', async () => {
    const request = new Request('http://x/', { method: 'POST', body: 'abc', headers: { 'content-length': '1e3' } });
    expect(await statusOf(readRequestBodyWithin(request, 10))).toBe(400);
  });

  test('bodies within the limit come back byte for byte; text decodes UTF-8', async () => {
    const request = new Request('http://x/', { method: 'POST', body: 'привет' });
    expect(await readRequestTextWithin(request, 12)).toBe('привет');
    const over = new Request('http://x/', { method: 'POST', body: 'привет' });
    expect(await statusOf(readRequestTextWithin(over, 11))).toBe(413);
  });
});
