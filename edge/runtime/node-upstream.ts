import { Agent, request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { UpstreamFetch } from '../bff/context.ts';

/**
 * The BFF's upstream client on Node: node:http with a keep-alive Agent instead of the global
 * fetch (undici). Measured on the BFF → core path, undici's fetch cost 310–390 µs of client CPU per
 * call against 250–290 µs for node:http (docs/edge.md); Bun, Deno and workerd keep their fetch.
 *
 * It answers like fetch where the BFF relies on it: a Web Response, redirects not followed, a
 * refused or reset connection rejects (→ 502 in api-proxy.ts), an aborted signal rejects with the
 * signal's reason (its TimeoutError → 503), gzip/deflate/br bodies arrive decoded. Only http: URLs
 * take this path (core on loopback or a private network); anything else goes to `fallback`.
 *
 * Bodies with a Content-Length up to `bufferBytes` are read whole into one buffer (cheaper than a
 * Web stream, and api-proxy.ts reads those whole anyway); longer or chunked ones stream through a
 * ReadableStream that reads from the socket only as fast as it is consumed, so memory stays bounded.
 */
export interface NodeUpstreamOptions {
  /** For URLs that are not http: (a Keycloak over https in readiness probes). Default: global fetch. */
  fallback?: UpstreamFetch;
  /** Bodies with a Content-Length up to this are buffered whole; the rest stream. Default 256 KiB. */
  bufferBytes?: number;
  /**
   * Idle pooled sockets are closed after this: below Node's default keepAliveTimeout (5 s) on
   * core's side, so the pool does not hand out a socket core is closing. Default 4 s.
   */
  idleSocketMs?: number;
  /** Connect + answer headers must come within this when the caller gives no signal. Default 30 s. */
  headersTimeoutMs?: number;
  /** Open sockets per origin; beyond it requests queue in the Agent. Default 256. */
  maxSockets?: number;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** Methods safe to send again when a reused keep-alive socket turns out closed before any answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export function createNodeUpstream(options: NodeUpstreamOptions = {}): UpstreamFetch & { close(): void } {
  const fallback = options.fallback ?? ((url, init) => fetch(url, init));
  const bufferBytes = options.bufferBytes ?? 256 * 1024;
  const headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  // `timeout` applies to sockets while idle in the pool too: an idle one that reaches it is destroyed.
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 256, timeout: options.idleSocketMs ?? 4_000, scheduling: 'lifo' });

  const upstream = (url: string, init: RequestInit): Promise<Response> => {
    const target = new URL(url);
    if (target.protocol !== 'http:') return fallback(url, init);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = nodeHeaders(init.headers);
    const body = bodyBytes(init.body);
    if (body) headers['content-length'] = String(body.byteLength);
    else if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0';
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return send(target, method, headers, body, signal, IDEMPOTENT.has(method));
  };

  function send(target: URL, method: string, headers: Record<string, string | string[]>, body: Uint8Array | undefined, signal: AbortSignal | undefined, mayRetry: boolean): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const req = request({ protocol: 'http:', hostname: target.hostname.replace(/^\[|\]$/g, ''), port: target.port || 80, path: `${target.pathname}${target.search}`, method, headers, agent });
      const done = () => {
        settled = true;
        clearTimeout(headersTimer);
      };
      // Rejects at once with the reason given (not whatever error the destroyed socket reports
      // later), then drops the connection: before the answer, or while its body streams.
      const cancel = (reason: unknown) => {
        if (!settled) {
          done();
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        }
        req.destroy(reason instanceof Error ? reason : undefined);
      };
      // Without a caller's deadline, a silent upstream must still end (fetch has its own 300 s one).
      const headersTimer = signal ? undefined : setTimeout(() => cancel(timeoutError('Upstream did not answer in time')), headersTimeoutMs);
      const onAbort = () => cancel(signal!.reason ?? abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        done();
        signal?.removeEventListener('abort', onAbort);
        // The pooled socket was closed by core between two requests: send once more on a new one.
        if (mayRetry && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && !signal?.aborted) {
          resolve(send(target, method, headers, body, signal, false));
          return;
        }
        reject(error);
      });
      req.on('response', (res) => {
        done();
        respond(res, method, signal, onAbort).then(resolve, reject);
      });
      req.end(body);
    });
  }

  async function respond(res: IncomingMessage, method: string, signal: AbortSignal | undefined, onAbort: () => void): Promise<Response> {
    const status = res.statusCode ?? 502;
    const headers = new Headers();
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    const init = { status, statusText: res.statusMessage ?? '', headers };
    const unbodied = method === 'HEAD' || NULL_BODY_STATUS.has(status);
    const decoder = unbodied ? undefined : decoderFor(headers.get('content-encoding'));
    const length = Number(headers.get('content-length') ?? NaN);
    if (unbodied) {
      res.resume();
      signal?.removeEventListener('abort', onAbort);
      return new Response(null, init);
    }
    // A body that was encoded is decoded here, so its length is unknown: it streams.
    if (!decoder && length <= bufferBytes) {
      try {
        const bytes = await readWhole(res, length);
        return new Response(bytes.byteLength ? (bytes as Uint8Array<ArrayBuffer>) : null, init);
      } catch (error) {
        // Cut off by the caller's deadline: reject as fetch does, with the signal's reason.
        throw signal?.aborted ? signal.reason : error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
    // Streamed: an abort while the body is read destroys the socket, the stream errors.
    const source: Readable = decoder ? res.pipe(decoder) : res;
    if (decoder) res.on('error', (error) => decoder.destroy(error));
    source.once('close', () => signal?.removeEventListener('abort', onAbort));
    return new Response(Readable.toWeb(source) as unknown as ReadableStream<Uint8Array<ArrayBuffer>>, init);
  }

  return Object.assign(upstream, { close: () => agent.destroy() });
}

/** Reads a body of a known length into one buffer; rejects if the connection ends early. */
function readWhole(res: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    res.once('error', reject);
    // An upstream that closes mid-body: 'aborted' then 'close' without 'end'.
    res.once('close', () => !res.complete && reject(Object.assign(new Error(`upstream closed after ${size} of ${length} bytes`), { code: 'ECONNRESET' })));
  });
}

function decoderFor(encoding: string | null) {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      // identity, absent, or one fetch does not decode either: passed as it is.
      return undefined;
  }
}

function nodeHeaders(init: HeadersInit | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!init) return out;
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const existing = out[key];
    out[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  };
  if (init instanceof Headers) init.forEach((value, name) => add(name, value));
  else if (Array.isArray(init)) for (const [name, value] of init) add(name!, value!);
  else for (const [name, value] of Object.entries(init)) add(name, value);
  return out;
}

function bodyBytes(body: BodyInit | null | undefined): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // The BFF sends only bytes (bodies are read whole and bounded before they go upstream).
  throw new TypeError('node upstream: only string or byte bodies are supported');
}

function timeoutError(message: string): Error {
  return new DOMException(message, 'TimeoutError');
}

function abortError(): Error {
  return new DOMException('The operation was aborted', 'AbortError');
}
