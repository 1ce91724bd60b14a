import { afterEach, describe, expect, test } from 'bun:test';
import type { ApiFailure } from '../http/request.ts';
import { loadOwnDailyReport, loadOwnSummary } from './reports-api.ts';
import { envelope, json, restoreFetch, scriptFetch, seen } from '../http/scripted-fetch.ts';

/**
 * The app's request logic with a scripted fetch standing in for the network (pure logic: how
 * answers become data, null, or an ApiFailure; the real BFF and CDN are exercised by tests/e2e).
 */

afterEach(restoreFetch);

describe('own report documents', () => {
  const signed = (key: string) => json(200, { url: `http://cdn.test/reports/${key}?exp=1&sig=x`, key, expires_at: '2026-11-25T00:00:00Z', cache: 'hit' });

  test('are read from the signed CDN URL', async () => {
    scriptFetch({
      '/api/reports/cdn/summary': () => signed('ann/summary/summary.json'),
      'http://cdn.test/reports/ann/summary/summary.json?exp=1&sig=x': () => json(200, { user_id: 'ann', movements: 5 }),
    });
    expect(await loadOwnSummary()).toMatchObject({ user_id: 'ann', movements: 5 });
    expect(seen).toEqual(['/api/reports/cdn/summary', 'http://cdn.test/reports/ann/summary/summary.json?exp=1&sig=x']);
  });

  test('fall back to the API when the CDN cannot serve them', async () => {
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      scriptFetch({
        '/api/reports/cdn/2026-11-24': () => signed('ann/daily/2026-11-24/report.json'),
        'http://cdn.test/reports/ann/daily/2026-11-24/report.json?exp=1&sig=x': () => envelope(502, 'bad_gateway'),
        '/api/reports/2026-11-24': () => json(200, { user_id: 'ann', date: '2026-11-24' }),
      });
      expect(await loadOwnDailyReport('2026-11-24')).toMatchObject({ date: '2026-11-24' });
      expect(seen.at(-1)).toBe('/api/reports/2026-11-24');
    } finally {
      console.warn = warn;
    }
  });

  test('"no data" (404) is an empty answer, other failures are not', async () => {
    scriptFetch({ '/api/reports/cdn/2026-11-23': () => envelope(404, 'not_found') });
    expect(await loadOwnDailyReport('2026-11-23')).toBeNull();
    scriptFetch({ '/api/reports/cdn/summary': () => envelope(403, 'forbidden') });
    expect(await loadOwnSummary().catch((error: unknown) => (error as ApiFailure).status)).toBe(403);
  });
});
