import { describe, expect, test } from 'bun:test';
import { ApiFailure } from '../http/request.ts';
import { describeSaveFailure } from './save-failure.ts';

const http = (status: number, details?: unknown, message = 'refused') => new ApiFailure({ kind: 'http', status, message, details });

describe('a refused save, for the form', () => {
  test('412 asks for a reload; 404 is "not in your region"', () => {
    expect(describeSaveFailure(http(412, { reason: 'stale_version', current_etag: '"9"' }))).toEqual({ kind: 'stale' });
    expect(describeSaveFailure(http(404, { entity: 'customer' }))).toEqual({ kind: 'not-found' });
  });

  test('422 field reasons go to their fields (first per field); pathless ones to the form', () => {
    const failure = describeSaveFailure(
      http(422, [
        { path: 'email', message: 'not an e-mail address' },
        { path: 'email', message: 'at most 254 characters' },
        { path: 'phone', message: 'not a phone number' },
        { path: '', message: 'name at least one of full_name, email, phone' },
      ]),
    );
    expect(failure).toEqual({ kind: 'invalid', fields: { email: 'not an e-mail address', phone: 'not a phone number' }, general: ['name at least one of full_name, email, phone'] });
  });

  test('a refused transition (details without fields) shows core’s message, which names the allowed statuses', () => {
    const failure = describeSaveFailure(http(422, { reason: 'transition_not_allowed', from: 'new', to: 'closed', allowed: ['confirmed', 'cancelled'] }, 'new → closed is not allowed; allowed: confirmed, cancelled'));
    expect(failure).toEqual({ kind: 'invalid', fields: {}, general: ['new → closed is not allowed; allowed: confirmed, cancelled'] });
  });

  test('409 names the taken field; everything else is an ordinary failure', () => {
    expect(describeSaveFailure(http(409, { field: 'chip_id', reason: 'taken' }))).toEqual({ kind: 'taken', field: 'chip_id' });
    const network = new ApiFailure({ kind: 'network', message: 'offline' });
    expect(describeSaveFailure(network)).toEqual({ kind: 'other', error: network });
    expect(describeSaveFailure(http(503)).kind).toBe('other');
    expect(describeSaveFailure(http(409)).kind).toBe('other');
  });
});
