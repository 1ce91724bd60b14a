import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StackEnv } from '../../stack/lib/env.ts';
import { clickHouseIdentity } from '../../stack/dev.ts';
import { ROOT } from '../../tools/kit/paths.ts';
import type { Fixture, Session } from './fixture.ts';
import type { CrmLedger, TelemetryLedger } from './load.ts';

/**
 * What was lost, counted against the stores themselves (never against what the apps say they did).
 * Every count here must be 0 after a fault.
 */

/** Acknowledged telemetry events (a 2xx answered them) that are not in the telemetry database. */
export async function telemetryMissingInPostgres(fixture: Fixture, ledger: TelemetryLedger): Promise<{ acknowledged: number; missing: number }> {
  // The acknowledgements first: one arriving while the query runs may not be in its snapshot yet.
  const acknowledged = [...ledger.acknowledged.keys()];
  const stored = new Set<string>();
  const rows = await fixture.telemetry<{ event_id: string }[]>`select event_id::text from public.raw_telemetry where chip_id in ${fixture.telemetry(fixture.chips)}`;
  for (const row of rows) stored.add(row.event_id);
  let missing = 0;
  for (const id of acknowledged) if (!stored.has(id)) missing += 1;
  return { acknowledged: acknowledged.length, missing };
}

/** The jobs CLI's backfill over the fixture's chips (today and yesterday, UTC): the ETL as operators run it. */
export async function runEtlForChips(env: StackEnv, fixture: Fixture, coreUrl: string): Promise<{ ok: boolean; output: string }> {
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const args = ['jobs/cli.ts', 'backfill', '--from', day(yesterday), '--to', day(today), '--json', ...fixture.chips.flatMap((chip) => ['--chip', chip])];
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), args, {
      cwd: ROOT,
      // CORE_URL: the suite's own core, whose cached reports the run invalidates.
      env: { ...process.env, ...env, ...clickHouseIdentity('jobs', env), CORE_URL: coreUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, output: output.trim().slice(-2000) });
    });
  });
}

/**
 * Stored events per chip (received before `cutoff`) that the mart does not count, after an ETL run
 * that started after `cutoff`. With the load stopped (`exact`), more in the mart than in the
 * database is counted too: an event counted twice.
 */
export async function martShortfall(env: StackEnv, fixture: Fixture, options: { exact: boolean; coreUrl: string }): Promise<{ missing: number; extra: number; etlOk: boolean; etlOutput: string }> {
  const cutoff = new Date();
  const stored = new Map<string, number>();
  const rows = await fixture.telemetry<{ chip_id: string; n: number }[]>`
    select chip_id, count(*)::int as n from public.raw_telemetry
    where chip_id in ${fixture.telemetry(fixture.chips)} and received_at <= ${cutoff}
    group by chip_id`;
  for (const row of rows) stored.set(row.chip_id, row.n);
  const etl = await runEtlForChips(env, fixture, options.coreUrl);
  const list = fixture.chips.map((c) => `'${c}'`).join(', ');
  const result = await fixture.clickhouse.query({
    query: `SELECT chip_id, sum(event_count) AS n FROM report_hourly FINAL WHERE chip_id IN (${list}) GROUP BY chip_id`,
    format: 'JSONEachRow',
  });
  const inMart = new Map(((await result.json()) as Array<{ chip_id: string; n: string | number }>).map((r) => [r.chip_id, Number(r.n)]));
  let missing = 0;
  let extra = 0;
  for (const chip of fixture.chips) {
    const want = stored.get(chip) ?? 0;
    const got = inMart.get(chip) ?? 0;
    missing += Math.max(0, want - got);
    if (options.exact) extra += Math.max(0, got - want);
  }
  return { missing, extra, etlOk: etl.ok, etlOutput: etl.output };
}

export interface CrmCheck {
  /** Committed changes whose result ClickHouse does not show (row absent, stale, or deleted one still visible). */
  missing: number;
  /** Ids visible more than once under FINAL. */
  duplicates: number;
  /** Changes the CRM acknowledged that the CRM itself no longer has (a durability loss in PostgreSQL). */
  lostInCrm: number;
  /** How long ClickHouse took to show the CRM's state (or the wait's limit, when it never did). */
  convergedMs: number;
  orders: number;
}

async function compareCrm(fixture: Fixture, ledger: CrmLedger): Promise<Omit<CrmCheck, 'convergedMs'>> {
  const customerIds = fixture.owners.map((o) => o.customerId);
  const truth = await fixture.crm<{ id: string; status: string; amount: string }[]>`
    select id::text, status, amount::text from crm.orders where customer_id in ${fixture.crm(customerIds)}`;
  const inCrm = new Map(truth.map((row) => [row.id, row]));
  let lostInCrm = 0;
  for (const id of ledger.live.keys()) {
    // Only presence: a statement that timed out may still have committed a later update.
    if (!inCrm.has(id)) lostInCrm += 1;
  }
  for (const id of ledger.deleted) if (inCrm.has(id)) lostInCrm += 1;
  const ids = [...new Set([...inCrm.keys(), ...ledger.deleted])];
  if (ids.length === 0) return { missing: 0, duplicates: 0, lostInCrm, orders: 0 };
  // By id only (the sort key): a condition on another column could be moved before FINAL's merge.
  // 18.16 refuses a list of toUUID() in IN ("Type mismatch"), so the ids are compared as text.
  const result = await fixture.clickhouse.query({
    query: `SELECT toString(id) AS id, status, toString(amount) AS amount, _deleted FROM crm_orders FINAL WHERE toString(id) IN (${ids.map((id) => `'${id}'`).join(', ')})`,
    format: 'JSONEachRow',
  });
  const replica = (await result.json()) as Array<{ id: string; status: string; amount: string; _deleted: number | string }>;
  const seen = new Map<string, number>();
  for (const row of replica) seen.set(row.id, (seen.get(row.id) ?? 0) + 1);
  const duplicates = [...seen.values()].filter((n) => n > 1).length;
  const visible = new Map(replica.filter((row) => Number(row._deleted) === 0).map((row) => [row.id, row]));
  let missing = 0;
  for (const [id, row] of inCrm) {
    const copy = visible.get(id);
    if (!copy || copy.status !== row.status || Number(copy.amount) !== Number(row.amount)) missing += 1;
  }
  for (const id of ids) if (!inCrm.has(id) && visible.has(id)) missing += 1;
  return { missing, duplicates, lostInCrm, orders: inCrm.size };
}

/** Polls until ClickHouse shows the CRM's orders exactly (or `timeoutMs` passes); the last comparison counts. */
export async function crmReplicated(fixture: Fixture, ledger: CrmLedger, timeoutMs: number): Promise<CrmCheck> {
  const started = Date.now();
  let lastError = '';
  let last: Omit<CrmCheck, 'convergedMs'> | undefined;
  for (;;) {
    try {
      last = await compareCrm(fixture, ledger);
      if (last.missing === 0 && last.duplicates === 0) return { ...last, convergedMs: Date.now() - started };
    } catch (error) {
      // A store still coming back; the last error is kept for the note when it never does.
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() - started > timeoutMs) {
      if (!last) throw new Error(`CRM comparison kept failing for ${timeoutMs} ms: ${lastError}`);
      return { ...last, convergedMs: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Sessions whose /auth/me no longer answers 200 (a 5xx is retried for `graceMs`: a store still reconnecting is not a lost session). */
export async function lostSessions(sessions: Session[], graceMs = 15_000): Promise<{ lost: number; details: string[] }> {
  const details: string[] = [];
  for (const session of sessions) {
    const deadline = Date.now() + graceMs;
    let status = 0;
    for (;;) {
      try {
        const response = await session.browser.fetch(`${session.bffOrigin}/auth/me`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      if ((status !== 0 && status < 500) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    if (status !== 200) details.push(`${session.uid}: /auth/me answered ${status || 'nothing'}`);
  }
  return { lost: details.length, details };
}
