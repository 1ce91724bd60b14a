import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FIRST_REPORT_DATE, lastReportDate } from '../../core/reports/report-date.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';
import { createTestPerson, type TestPerson } from './support/keycloak-people.ts';

/**
 * Issue 9, unbounded ClickHouse work: core in-process over the real stack (ClickHouse, S3, Redis,
 * Keycloak). A day without data used to cost an S3 read and a ClickHouse query on every request;
 * it is now remembered (report-cache.ts EMPTY_RESULT_TTL_MS), and days no report can exist for
 * are refused with 400 before anything is asked.
 */
let core: CoreHarness;
let person: TestPerson;
/** ClickHouse queries core's report source ran for daily reports (the real source, counted on its way through). */
let dailyQueries = 0;

beforeAll(async () => {
  core = createCoreHarness();
  person = await createTestPerson(core.env, ['prothetic_user'], 'dates');
  const source = core.deps.reportSource;
  const dailyReport = source.dailyReport.bind(source);
  source.dailyReport = (...args) => {
    dailyQueries++;
    return dailyReport(...args);
  };
}, 60_000);

afterAll(async () => {
  await person?.remove().catch((error) => console.warn('cleanup', error));
  await core?.close();
});

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function dailyCacheCounter(outcome: string): number {
  const line = core.deps.metrics.registry.render().split('\n').find((l) => l.startsWith('core_report_cache_total{') && l.includes('kind="daily"') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('daily reports: empty days and the date range', () => {
  test('an empty day asked three times (JSON twice, then its CDN URL) runs one ClickHouse query; each answers 404', async () => {
    const token = await person.accessToken();
    // A fresh person: no mart rows at all, so any day in range is empty.
    const day = isoDay(Date.now() - 3 * DAY_MS);
    const [missesBefore, memoryBefore, queriesBefore] = [dailyCacheCounter('miss'), dailyCacheCounter('memory'), dailyQueries];
    const first = await core.request(`/api/reports/${day}`, { token });
    expect(first.status).toBe(404);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const second = await core.request(`/api/reports/${day}`, { token });
    expect(second.status).toBe(404);
    const url = await core.request(`/api/reports/cdn/${day}`, { token });
    expect(url.status).toBe(404);
    expect(dailyQueries - queriesBefore).toBe(1);
    expect(dailyCacheCounter('miss') - missesBefore).toBe(1);
    expect(dailyCacheCounter('memory') - memoryBefore).toBe(2);
  });

  test('days before the first possible telemetry or more than a day ahead are a 400 naming the range, without a query', async () => {
    const token = await person.accessToken();
    const now = Date.now();
    const latest = lastReportDate(now);
    const queriesBefore = dailyQueries;
    for (const date of ['1970-01-01', '2019-12-31', isoDay(Date.parse(latest) + DAY_MS), '2105-12-31']) {
      for (const path of [`/api/reports/${date}`, `/api/reports/cdn/${date}`]) {
        const response = await core.request(path, { token });
        const body = (await response.json()) as { error: { code: string; message: string; details?: { earliest?: string; latest?: string } } };
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expect(body.error.code).toBe('bad_request');
        expect(body.error.message).toContain(FIRST_REPORT_DATE);
        expect(body.error.details).toMatchObject({ earliest: FIRST_REPORT_DATE, latest });
      }
    }
    // Not calendar days at all: 400 too.
    for (const date of ['2026-02-30', '2026-13-01', '2026-1-1']) expect((await core.request(`/api/reports/${date}`, { token })).status).toBe(400);
    expect(dailyQueries).toBe(queriesBefore);
    // The edges of the range are accepted (empty for this person: 404, not 400).
    for (const date of [FIRST_REPORT_DATE, isoDay(now), latest]) expect((await core.request(`/api/reports/${date}`, { token })).status).toBe(404);
  });
});

describe('the OpenAPI description says which days are accepted', () => {
  test('the date parameter and the 400 answer name the range', async () => {
    const doc = (await (await core.request('/openapi.json', { token: await person.accessToken() })).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; description?: string }>; responses: Record<string, { description: string }> }>>;
    };
    const daily = doc.paths['/api/reports/{date}']!.get!;
    expect(daily.parameters!.find((p) => p.name === 'date')!.description).toContain(FIRST_REPORT_DATE);
    expect(daily.responses['400']!.description).toContain(FIRST_REPORT_DATE);
    expect(doc.paths['/api/reports/cdn/{date}']!.get!.responses['400']!.description).toContain('today (UTC) + 1 day');
  });
});
