import { describe, expect, test } from 'bun:test';
import { badAnswers, type FaultRow, type StreamCounts } from './suite.ts';
import { isClean, renderTable } from './table.ts';
import { classifyError, classifyStatus, emptyCounts } from './tally.ts';

// The fault table's rules, apart from any service: which answers break issue 9's rule, and when a row is clean.
describe('chaos rules', () => {
  test('only 2xx and 503 with Retry-After are acceptable answers', () => {
    expect(classifyStatus(200, null)).toBe('ok');
    expect(classifyStatus(503, '2')).toBe('retry');
    expect(classifyStatus(503, null)).toBe('error5xx');
    expect(classifyStatus(503, ' ')).toBe('error5xx');
    expect(classifyStatus(502, '2')).toBe('error5xx');
    expect(classifyStatus(500, null)).toBe('error5xx');
    expect(classifyStatus(401, null)).toBe('error4xx');
  });

  test('a client timeout is a hang, anything else thrown is a connection failure', () => {
    expect(classifyError(new DOMException('The operation timed out.', 'TimeoutError'))).toBe('timeout');
    expect(classifyError(Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED') }))).toBe('conn');
  });

  const counts = (over: Partial<StreamCounts> = {}): StreamCounts => ({ telemetry: emptyCounts(), reports: emptyCounts(), crm: emptyCounts(), ...over });

  test('refused connections count only when another process than the killed one refused', () => {
    const refusedTelemetry = counts({ telemetry: { ...emptyCounts(), conn: 3 } });
    expect(badAnswers('core', refusedTelemetry)).toBe(0);
    expect(badAnswers('redis', refusedTelemetry)).toBe(3);
    const refusedReads = counts({ reports: { ...emptyCounts(), conn: 2, timeout: 1 } });
    expect(badAnswers('edge', refusedReads)).toBe(1);
    expect(badAnswers('core', refusedReads)).toBe(3);
  });

  test('a row is clean only with every loss count at 0 and a recovery', () => {
    const row: FaultRow = {
      fault: 'redis',
      downMs: 5000,
      restartMs: 1000,
      recoveredMs: 200,
      during: counts(),
      telemetryAcknowledged: 10,
      telemetryMissingInPg: 0,
      martMissing: 0,
      martExtra: 0,
      etlFailed: false,
      crmMissing: 0,
      crmDuplicates: 0,
      crmLostInCrm: 0,
      cdcCaughtUpMs: 0,
      sessionsLost: 0,
      badAnswers: 0,
      otherAppsExited: 0,
      notes: [],
    };
    expect(isClean(row)).toBe(true);
    for (const broken of [{ sessionsLost: 1 }, { telemetryMissingInPg: 1 }, { martMissing: 2 }, { crmDuplicates: 1 }, { badAnswers: 1 }, { recoveredMs: undefined }, { etlFailed: true }, { otherAppsExited: 1 }]) {
      expect(isClean({ ...row, ...broken })).toBe(false);
    }
    expect(renderTable([row, { ...row, fault: 'core', sessionsLost: 1 }])).toMatch(/\| redis \|.*\| ok \|\n\| core \|.*\| FINDING \|$/);
  });
});
