import { describe, expect, test } from 'bun:test';
import { loginHref, returnToFor } from './sign-in-link.ts';

describe('sign-in links', () => {
  test('returnTo keeps the page and its query, but not a login error', () => {
    expect(returnToFor({ pathname: '/reports/2026-11-24', search: '' })).toBe('/reports/2026-11-24');
    expect(returnToFor({ pathname: '/', search: '?error=state_mismatch' })).toBe('/');
    expect(returnToFor({ pathname: '/admin', search: '?error=x&tab=cache' })).toBe('/admin?tab=cache');
  });

  test('the sign-in link carries the return path to the BFF, encoded', () => {
    expect(loginHref('/')).toBe('/auth/login');
    expect(loginHref('/reports/2026-11-24')).toBe('/auth/login?returnTo=%2Freports%2F2026-11-24');
    expect(loginHref('/admin?tab=a&b=c')).toBe('/auth/login?returnTo=%2Fadmin%3Ftab%3Da%26b%3Dc');
  });
});
