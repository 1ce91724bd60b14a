import { findService, restartService } from '../../stack/restart.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import { defineApps, LOG_DIR, type AppSet } from './apps.ts';
import { crmReplicated, lostSessions, martShortfall, telemetryMissingInPostgres } from './checks.ts';
import { APP_FAULTS, faultFor } from './faults.ts';
import { createFixture, signIn, waitForProsthesesReplicated, type Fixture, type Session } from './fixture.ts';
import { DEFAULT_RATES, drainPendingTelemetry, startLoad, type Load, type LoadRates } from './load.ts';
import type { Counts } from './tally.ts';

/**
 * The fault-injection run: apps up, fixture made, owners signed in, steady load started; then for
 * each fault: kill, hold it down, restart, wait for every stream to succeed again, and count what
 * was lost. Every process it killed is running again when it returns or throws.
 */

export interface ChaosOptions {
  faults: string[];
  /** How long a killed process stays down before it is started again. */
  downSeconds: number;
  /** Normal load before the first fault and after each recovery. */
  settleSeconds: number;
  rates: LoadRates;
  clientTimeoutMs: number;
  owners: number;
  chipsPerOwner: number;
  /** How long ClickHouse may take to show the CRM's state after a recovery. */
  convergeTimeoutMs: number;
  /** Run the ETL and compare the mart after every fault (always after the load stops). */
  martEachFault: boolean;
  runtime: 'node' | 'bun';
  log(line: string): void;
}

export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'faults' | 'log'> = {
  downSeconds: 5,
  settleSeconds: 3,
  rates: DEFAULT_RATES,
  clientTimeoutMs: 15_000,
  owners: 2,
  chipsPerOwner: 10,
  convergeTimeoutMs: 90_000,
  martEachFault: true,
  runtime: 'node',
};

export interface StreamCounts {
  telemetry: Counts;
  reports: Counts;
  crm: Counts;
}

export interface FaultRow {
  fault: string;
  /** Kill → the process answers its readiness probe again. */
  downMs: number;
  /** The restart alone (start + provision). */
  restartMs: number;
  /** Restart done → every load stream has had a success again (undefined: not within the limit). */
  recoveredMs: number | undefined;
  during: StreamCounts;
  telemetryAcknowledged: number;
  telemetryMissingInPg: number;
  martMissing: number | undefined;
  martExtra: number | undefined;
  /** The ETL run of the check failed (undefined: not run after this fault). */
  etlFailed: boolean | undefined;
  crmMissing: number;
  crmDuplicates: number;
  crmLostInCrm: number;
  cdcCaughtUpMs: number;
  sessionsLost: number;
  /** Answers that break the rule (see badAnswers). */
  badAnswers: number;
  /** Apps other than the killed one that exited meanwhile (recovery must not need them restarted). */
  otherAppsExited: number;
  notes: string[];
}

export interface ChaosResult {
  rows: FaultRow[];
  sessions: number;
  chips: number;
}

/**
 * Answers that break issue 9's rule: any 5xx but 503 + Retry-After, any unasked 4xx, any timeout, and
 * refused connections except from the very app that was killed (core for telemetry, edge for reads).
 */
export function badAnswers(fault: string, during: StreamCounts): number {
  const bad = (counts: Counts, connAllowed: boolean) => counts.error5xx + counts.error4xx + counts.timeout + (connAllowed ? 0 : counts.conn);
  return bad(during.telemetry, fault === 'core') + bad(during.reports, fault === 'edge') + bad(during.crm, false);
}

function countsSince(load: Load, snapshot: StreamCounts): StreamCounts {
  return { telemetry: load.telemetry.since(snapshot.telemetry), reports: load.reports.since(snapshot.reports), crm: load.crm.since(snapshot.crm) };
}

function subtractCounts(total: StreamCounts, parts: StreamCounts[]): StreamCounts {
  const minus = (a: Counts, list: Counts[]) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - list.reduce((s, c) => s + c[k as keyof Counts], 0)])) as Counts;
  return { telemetry: minus(total.telemetry, parts.map((p) => p.telemetry)), reports: minus(total.reports, parts.map((p) => p.reports)), crm: minus(total.crm, parts.map((p) => p.crm)) };
}

function snapshotOf(load: Load): StreamCounts {
  return { telemetry: load.telemetry.snapshot(), reports: load.reports.snapshot(), crm: load.crm.snapshot() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Makes sure a stack service or app the suite may have killed is running; says so loudly when it cannot. */
async function ensureRunning(env: StackEnv, apps: AppSet, name: string, log: (line: string) => void): Promise<void> {
  try {
    if ((APP_FAULTS as string[]).includes(name)) {
      const app = apps[name as 'core' | 'jobs' | 'edge'];
      if (!app.isRunning()) await app.start();
      return;
    }
    const service = await findService(name);
    if (!(await service.isReady(env).catch(() => false))) {
      log(`chaos: ${name} is not answering; restarting it`);
      await restartService(env, name, { stopFirst: false });
    }
  } catch (error) {
    log(`\n!!! chaos: COULD NOT RESTART ${name}: ${error instanceof Error ? error.message : String(error)}\n!!! run \`node stack/cli.ts restart ${name}\` by hand.\n`);
    throw error;
  }
}

async function runOneFault(env: StackEnv, apps: AppSet, fixture: Fixture, sessions: Session[], load: Load, name: string, options: ChaosOptions): Promise<FaultRow> {
  const fault = faultFor(name, env, apps);
  const notes: string[] = [];
  const samplesBefore = { telemetry: load.telemetry.samples.length, reports: load.reports.samples.length, crm: load.crm.samples.length };
  const snapshot = snapshotOf(load);
  // Recovery must not need any other process restarted: the other apps keep their pids throughout.
  const otherApps = apps.all().filter((app) => app.name !== name);
  const pidsBefore = new Map(otherApps.map((app) => [app.name, app.pid()]));
  const killedAt = Date.now();
  options.log(`chaos: SIGKILL ${name}`);
  await fault.kill();
  let restartMs = 0;
  let readyAt = Date.now();
  try {
    await sleep(options.downSeconds * 1000);
    const restartStarted = Date.now();
    options.log(`chaos: restarting ${name}`);
    await fault.restart();
    readyAt = Date.now();
    restartMs = readyAt - restartStarted;
  } finally {
    await ensureRunning(env, apps, name, options.log);
  }
  // Recovered: every stream has had a success since the restart, within a minute.
  let recoveredMs: number | undefined;
  const recoverDeadline = Date.now() + 60_000;
  while (Date.now() < recoverDeadline) {
    if ([load.telemetry, load.reports, load.crm].every((t) => t.lastOkAt > readyAt)) {
      recoveredMs = Math.max(load.telemetry.lastOkAt, load.reports.lastOkAt, load.crm.lastOkAt) - readyAt;
      break;
    }
    await sleep(100);
  }
  if (recoveredMs === undefined) notes.push('a load stream had no success within 60 s of the restart');
  await sleep(options.settleSeconds * 1000);
  const during = countsSince(load, snapshot);
  // Refused connections from the killed app itself are expected (see badAnswers): not worth a note.
  const expectedConn = (stream: string) => (stream === 'telemetry' && name === 'core') || (stream === 'reports' && name === 'edge');
  for (const [stream, tally] of [['telemetry', load.telemetry], ['reports', load.reports], ['crm', load.crm]] as const) {
    const samples = tally.samples.slice(samplesBefore[stream]).filter((s) => !(expectedConn(stream) && s.startsWith('conn:')));
    notes.push(...samples.slice(0, 5).map((s) => `${stream} ${s}`));
    if (samples.length > 5) notes.push(`${stream}: ${samples.length - 5} more like these`);
  }
  const pg = await telemetryMissingInPostgres(fixture, load.telemetryLedger);
  const crm = await crmReplicated(fixture, load.crmLedger, options.convergeTimeoutMs);
  const sessionCheck = await lostSessions(sessions);
  notes.push(...sessionCheck.details);
  const appsLost = otherApps.filter((app) => app.pid() === undefined || app.pid() !== pidsBefore.get(app.name));
  for (const app of appsLost) notes.push(`${app.name} exited during the ${name} fault (pid ${pidsBefore.get(app.name)} → ${app.pid() ?? 'none'}); see ${LOG_DIR}/${app.name}.log`);
  let mart: Awaited<ReturnType<typeof martShortfall>> | undefined;
  if (options.martEachFault) {
    mart = await martShortfall(env, fixture, { exact: false, coreUrl: apps.core.url });
    if (!mart.etlOk || mart.missing > 0) notes.push(`ETL run (${mart.etlOk ? 'ok' : 'failed'}): ${mart.etlOutput.slice(0, 600)}`);
  }
  const row: FaultRow = {
    fault: name,
    downMs: readyAt - killedAt,
    restartMs,
    recoveredMs,
    during,
    telemetryAcknowledged: pg.acknowledged,
    telemetryMissingInPg: pg.missing,
    martMissing: mart?.missing,
    martExtra: mart?.extra,
    etlFailed: mart ? !mart.etlOk : undefined,
    crmMissing: crm.missing,
    crmDuplicates: crm.duplicates,
    crmLostInCrm: crm.lostInCrm,
    cdcCaughtUpMs: crm.convergedMs,
    sessionsLost: sessionCheck.lost,
    badAnswers: badAnswers(name, during),
    otherAppsExited: appsLost.length,
    notes,
  };
  options.log(`chaos: ${name} done: ${JSON.stringify({ ...row, notes: undefined })}`);
  return row;
}

/** The final row, with the load stopped: everything pending delivered, the ETL run, the mart compared exactly. */
async function finalRow(env: StackEnv, apps: AppSet, fixture: Fixture, sessions: Session[], load: Load, snapshot: StreamCounts, options: ChaosOptions): Promise<FaultRow> {
  const notes: string[] = [];
  const stillPending = await drainPendingTelemetry(env, apps, load);
  if (stillPending > 0) notes.push(`${stillPending} telemetry batch(es) never acknowledged after the load`);
  const pg = await telemetryMissingInPostgres(fixture, load.telemetryLedger);
  const crm = await crmReplicated(fixture, load.crmLedger, options.convergeTimeoutMs);
  const sessionCheck = await lostSessions(sessions);
  notes.push(...sessionCheck.details);
  const mart = await martShortfall(env, fixture, { exact: true, coreUrl: apps.core.url });
  if (!mart.etlOk || mart.missing > 0 || mart.extra > 0) notes.push(`ETL run (${mart.etlOk ? 'ok' : 'failed'}): ${mart.etlOutput.slice(0, 600)}`);
  const during = countsSince(load, snapshot);
  return {
    fault: 'after the load (all)',
    downMs: 0,
    restartMs: 0,
    recoveredMs: 0,
    during,
    telemetryAcknowledged: pg.acknowledged,
    telemetryMissingInPg: pg.missing,
    martMissing: mart.missing,
    martExtra: mart.extra,
    etlFailed: !mart.etlOk,
    crmMissing: crm.missing,
    crmDuplicates: crm.duplicates,
    crmLostInCrm: crm.lostInCrm,
    cdcCaughtUpMs: crm.convergedMs,
    sessionsLost: sessionCheck.lost,
    badAnswers: badAnswers('', during),
    otherAppsExited: apps.all().filter((app) => !app.isRunning()).length,
    notes,
  };
}

export interface Harness {
  apps: AppSet;
  fixture: Fixture;
  sessions: Session[];
  close(): Promise<void>;
}

/** Apps started, fixture made and replicated, owners signed in. `close()` undoes all of it. */
export async function openHarness(env: StackEnv, options: Pick<ChaosOptions, 'owners' | 'chipsPerOwner' | 'clientTimeoutMs' | 'runtime' | 'log'>): Promise<Harness> {
  const apps = await defineApps(env, { runtime: options.runtime });
  let fixture: Fixture | undefined;
  try {
    for (const app of apps.all()) {
      const ms = await app.start();
      options.log(`chaos: ${app.name} up on ${app.ports.join(', ')} in ${ms} ms`);
    }
    fixture = await createFixture(env, { owners: options.owners, chipsPerOwner: options.chipsPerOwner });
    try {
      const replicatedMs = await waitForProsthesesReplicated(fixture, 60_000);
      options.log(`chaos: ${fixture.chips.length} prostheses of ${fixture.owners.length} owners replicated to ClickHouse in ${replicatedMs} ms`);
    } catch (error) {
      // CDC broken before any fault: the run goes on and its CRM and mart columns show it.
      options.log(`\n!!! chaos: ${error instanceof Error ? error.message : String(error)}; see ${LOG_DIR}/jobs.log\n`);
    }
    const sessions = await signIn(env, fixture, apps.bffUrl, options.clientTimeoutMs);
    options.log(`chaos: ${sessions.length} owners signed in through the BFF (Keycloak password + TOTP)`);
    const made = fixture;
    return {
      apps,
      fixture: made,
      sessions,
      async close() {
        await apps.stopAll();
        await made.cleanup();
      },
    };
  } catch (error) {
    await apps.stopAll();
    await fixture?.cleanup();
    throw error;
  }
}

export async function runChaos(env: StackEnv, options: ChaosOptions): Promise<ChaosResult> {
  const harness = await openHarness(env, options);
  const { apps, fixture, sessions } = harness;
  const rows: FaultRow[] = [];
  let load: Load | undefined;
  try {
    load = startLoad(env, apps, fixture, sessions, { rates: options.rates, clientTimeoutMs: options.clientTimeoutMs });
    const start = snapshotOf(load);
    await sleep(options.settleSeconds * 1000);
    for (const name of options.faults) rows.push(await runOneFault(env, apps, fixture, sessions, load, name, options));
    await load.stop();
    const final = await finalRow(env, apps, fixture, sessions, load, start, options);
    // The whole run's answers; bad ones counted per fault above, plus any outside the fault windows.
    const outside = subtractCounts(final.during, rows.map((r) => r.during));
    final.badAnswers = rows.reduce((sum, r) => sum + r.badAnswers, 0) + badAnswers('', outside);
    rows.push(final);
    return { rows, sessions: sessions.length, chips: fixture.chips.length };
  } finally {
    await load?.stop();
    // Whatever happened above, nothing the suite killed stays down.
    for (const name of options.faults) await ensureRunning(env, apps, name, options.log).catch(() => undefined);
    await harness.close();
  }
}
