import type { Counts } from './tally.ts';
import type { FaultRow } from './suite.ts';

/**
 * The fault table as Markdown (printed and pasted into docs/reliability.md as it is). Answer columns
 * read ok/503/bad: successes (reports: fresh or cached), 503 with Retry-After, and everything else
 * (other 5xx, unasked 4xx, timeouts, refused connections — the last allowed only from the killed app).
 */

const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : (ms / 1000).toFixed(1));
const answers = (c: Counts) => `${c.ok}/${c.retry}/${c.error5xx + c.error4xx + c.timeout + c.conn}`;
const orDash = (n: number | undefined) => (n === undefined ? '–' : String(n));

export function isClean(row: FaultRow): boolean {
  return (
    row.badAnswers === 0 &&
    row.otherAppsExited === 0 &&
    row.recoveredMs !== undefined &&
    row.telemetryMissingInPg === 0 &&
    (row.martMissing ?? 0) === 0 &&
    (row.martExtra ?? 0) === 0 &&
    row.etlFailed !== true &&
    row.crmMissing === 0 &&
    row.crmDuplicates === 0 &&
    row.crmLostInCrm === 0 &&
    row.sessionsLost === 0
  );
}

export function renderTable(rows: FaultRow[]): string {
  const header = [
    'fault',
    'down s',
    'restart s',
    'recovered s',
    'telemetry ok/503/bad',
    'reports ok/503/bad',
    'CRM writes ok/failed/timeout',
    'bad answers',
    'acked events',
    'missing in PG',
    'missing in mart (extra)',
    'CRM missing in CH',
    'CH duplicates',
    'CDC caught up s',
    'sessions lost',
    'verdict',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    lines.push(
      `| ${[
        row.fault,
        seconds(row.downMs),
        seconds(row.restartMs),
        seconds(row.recoveredMs),
        answers(row.during.telemetry),
        answers(row.during.reports),
        `${row.during.crm.ok}/${row.during.crm.retry}/${row.during.crm.timeout}`,
        row.badAnswers,
        row.telemetryAcknowledged,
        row.telemetryMissingInPg,
        `${orDash(row.martMissing)} (${orDash(row.martExtra)})${row.etlFailed ? ' ETL FAILED' : ''}`,
        row.crmMissing + (row.crmLostInCrm ? ` (+${row.crmLostInCrm} lost in CRM)` : ''),
        row.crmDuplicates,
        seconds(row.cdcCaughtUpMs),
        row.sessionsLost,
        (isClean(row) ? 'ok' : 'FINDING') + (row.otherAppsExited ? ` (${row.otherAppsExited} other app(s) exited)` : ''),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** The bad answers and other notes, per fault, for the text under the table. */
export function renderNotes(rows: FaultRow[]): string {
  return rows
    .filter((row) => row.notes.length > 0)
    .map((row) => `- ${row.fault}:\n${row.notes.map((n) => `    - ${n.replaceAll('\n', ' ')}`).join('\n')}`)
    .join('\n');
}
