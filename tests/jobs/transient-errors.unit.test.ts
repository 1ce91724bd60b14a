import { describe, expect, test } from 'bun:test';
import { isTransientNetworkError } from '../../common/transient-errors.ts';
import { isRetryable, JobError } from '../../jobs/retry.ts';

const withCode = (code: string) => Object.assign(new Error(code), { code });

// One list serves core's telemetry store (503) and jobs' retries: both must agree on each case.
describe('transient network errors (common/transient-errors.ts)', () => {
  test('socket, DNS, undici, Bun and postgres.js connection codes are transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ConnectionRefused', 'ConnectionClosed', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT', '57P01', '57P03', '53300', '08006', '08001']) {
      expect([code, isTransientNetworkError(withCode(code))]).toEqual([code, true]);
      expect([code, isRetryable(withCode(code))]).toEqual([code, true]);
    }
  });

  test('statement errors are not: constraint, syntax, undefined table, bad data', () => {
    for (const code of ['23505', '42601', '42P01', '22P02', 'ERR_INVALID_ARG_TYPE', '0800', '080000']) {
      expect([code, isTransientNetworkError(withCode(code))]).toEqual([code, false]);
    }
    expect(isTransientNetworkError(new Error('boom'))).toBe(false);
    expect(isTransientNetworkError(undefined)).toBe(false);
    expect(isTransientNetworkError('ECONNREFUSED')).toBe(false);
  });

  test('found in the cause chain (fetch wraps the socket error); timeouts by name; cycles end', () => {
    expect(isTransientNetworkError(new TypeError('fetch failed', { cause: withCode('ECONNRESET') }))).toBe(true);
    expect(isTransientNetworkError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientNetworkError(a)).toBe(false);
  });

  test('a JobError decides for itself in jobs', () => {
    expect(isRetryable(new JobError('bad', 'bad request', { retry: false, cause: withCode('ECONNRESET') }))).toBe(false);
    expect(isRetryable(new JobError('down', 'core is down', { retry: true }))).toBe(true);
  });
});
