/**
 * The one list of failures that mean "the other side is not there right now" (refused, reset,
 * timed out, a database restarting or out of connections) rather than "this request is wrong".
 * Core answers 503 + Retry-After for them; jobs retry them with backoff. Pure: no runtime imports.
 */

/** Error codes as Node, undici, Bun's fetch and postgres.js report them. */
const TRANSIENT_CODES = new Set([
  // sockets and DNS (Node, undici)
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  // Bun's fetch
  'ConnectionRefused',
  'ConnectionClosed',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // PostgreSQL SQLSTATE: admin shutdown, cannot connect now (starting up), too many connections
  '57P01',
  '57P03',
  '53300',
]);

/** Error names of timeouts and aborted requests (fetch with AbortSignal.timeout). */
const TRANSIENT_NAMES = new Set(['TimeoutError', 'AbortError']);

function isTransientCode(code: string): boolean {
  // undici's socket errors (UND_ERR_SOCKET, …) and SQLSTATE class 08 (connection exception).
  return TRANSIENT_CODES.has(code) || code.startsWith('UND_ERR_') || /^08[0-9A-Z]{3}$/.test(code);
}

/** True when the error, or any error in its `cause` chain, is a transient network failure. */
export function isTransientNetworkError(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && isTransientCode(code)) return true;
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
  }
  return false;
}
