import { describe, expect, test } from 'bun:test';
import { ClickHouseError } from '@clickhouse/client';
import { classifyClickHouseError, clickHouseErrorCode, isClickHouseDataError } from '../../db/clickhouse/errors.ts';

// The one classifier core (503 vs 500) and jobs (retry vs dead letter) share.
describe('clickhouse error classifier', () => {
  test("reads the code from ClickHouseError and from 18.16's unparsed message", () => {
    expect(clickHouseErrorCode(new ClickHouseError({ message: 'Unknown identifier', code: '47', type: 'UNKNOWN_IDENTIFIER' }))).toBe(47);
    expect(clickHouseErrorCode(new Error('Code: 27, e.displayText() = DB::Exception: Cannot parse input'))).toBe(27);
    expect(clickHouseErrorCode(new Error('connect ECONNREFUSED 127.0.0.1:8123'))).toBeUndefined();
    expect(clickHouseErrorCode('Code: 27')).toBeUndefined();
  });

  test('no answer and transient refusals are "unavailable"; bad data is "data"; other server errors are "query"', () => {
    expect(classifyClickHouseError(new Error('socket hang up'))).toBe('unavailable');
    expect(classifyClickHouseError(new Error('Timeout error.'))).toBe('unavailable');
    for (const code of [159, 202, 241]) expect(classifyClickHouseError(new Error(`Code: ${code}, e.displayText() = x`))).toBe('unavailable');
    for (const code of [6, 27, 53, 376, 407]) {
      expect(classifyClickHouseError(new Error(`Code: ${code}, e.displayText() = x`))).toBe('data');
      expect(isClickHouseDataError(new Error(`Code: ${code}, e.displayText() = x`))).toBe(true);
    }
    expect(classifyClickHouseError(new Error('Code: 62, e.displayText() = DB::Exception: Syntax error'))).toBe('query');
    expect(classifyClickHouseError(new ClickHouseError({ message: 'Missing columns', code: '47', type: 'UNKNOWN_IDENTIFIER' }))).toBe('query');
    expect(isClickHouseDataError(new Error('socket hang up'))).toBe(false);
  });
});
