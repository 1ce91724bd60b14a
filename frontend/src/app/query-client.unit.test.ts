import { describe, expect, test } from 'bun:test';
import { ApiFailure } from '../http/request.ts';
import { retryDelayMs, shouldRetryRead } from './query-client.ts';

const http = (status: number, retryAfterSeconds?: number) => new ApiFailure({ kind: 'http', status, message: `HTTP ${status}`, retryAfterSeconds });

describe('when a read is asked again', () => {
  test('a lost connection, a gateway or a busy service: twice more', () => {
    for (const error of [new ApiFailure({ kind: 'network', message: 'offline' }), http(502), http(503), http(504), http(429)]) {
      expect([0, 1, 2].map((failures) => shouldRetryRead(failures, error))).toEqual([true, true, false]);
    }
  });

  test('answers that another try cannot change: never', () => {
    for (const error of [http(400), http(401), http(403), http(404), http(500), new ApiFailure({ kind: 'format', message: 'not JSON' }), new Error('bug')]) {
      expect(shouldRetryRead(0, error)).toBe(false);
    }
  });

  test('Retry-After is honoured, and a long one is not waited for', () => {
    expect(retryDelayMs(0, http(503, 5))).toBe(5_000);
    expect(retryDelayMs(0, http(503, 0))).toBe(1_000);
    expect(shouldRetryRead(0, http(503, 120))).toBe(false);
    expect([0, 1].map((failures) => retryDelayMs(failures, http(502)))).toEqual([1_000, 2_000]);
  });
});
