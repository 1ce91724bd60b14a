import { describe, expect, test } from 'bun:test';
import { ApiFailure } from '../http/request.ts';
import { ifMatch, isLostUpdate, isStrongEtag, versioned } from './etag.ts';

describe('record versions', () => {
  test('a strong quoted tag is a version; weak, unquoted, empty and * are not', () => {
    expect(isStrongEtag('"1733480000123456"')).toBe(true);
    for (const bad of ['W/"1"', '1733480000123456', '""', '', '*', '"a"b"', undefined, null, 17]) expect(isStrongEtag(bad)).toBe(false);
  });

  test('the record keeps the body’s version, else the header’s, else it is a broken answer', () => {
    expect(versioned({ id: 'a', etag: '"2"' }, '"1"').etag).toBe('"2"');
    expect(versioned({ id: 'a' }, '"1"')).toEqual({ id: 'a', etag: '"1"' });
    expect(() => versioned({ id: 'a' }, null)).toThrow(ApiFailure);
    expect(() => versioned({ id: 'a', etag: '' }, 'W/"1"')).toThrow(ApiFailure);
  });

  test('If-Match carries exactly the version read; never a wildcard', () => {
    expect(ifMatch('"1733480000123456"')).toEqual({ 'if-match': '"1733480000123456"' });
    expect(() => ifMatch('*')).toThrow();
    expect(() => ifMatch('')).toThrow();
  });

  test('a 412 is a lost update; other failures are not', () => {
    expect(isLostUpdate(new ApiFailure({ kind: 'http', status: 412, message: 'stale' }))).toBe(true);
    expect(isLostUpdate(new ApiFailure({ kind: 'http', status: 428, message: 'missing' }))).toBe(false);
    expect(isLostUpdate(new Error('412'))).toBe(false);
  });
});
