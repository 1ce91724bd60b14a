import { randomInt, randomUUID } from 'node:crypto';
import { deriveDeviceSecret, signTelemetryBody } from '../../core/telemetry/device-signature.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import type { AppSet } from './apps.ts';
import type { Fixture, Session } from './fixture.ts';
import { classifyError, classifyStatus, startPacer, Tally } from './tally.ts';

/**
 * The steady mixed load: signed telemetry batches from the fixture's chips straight to core, report
 * reads through the BFF as the signed-in owners, and CRM order inserts/updates/deletes in the CRM
 * database (the changes Debezium carries to ClickHouse). Each stream keeps a Tally of its answers
 * and remembers what was acknowledged, for the checks.
 */

export interface LoadRates {
  telemetryBatchesPerSecond: number;
  eventsPerBatch: number;
  reportReadsPerSecond: number;
  crmChangesPerSecond: number;
}

export const DEFAULT_RATES: LoadRates = { telemetryBatchesPerSecond: 6, eventsPerBatch: 5, reportReadsPerSecond: 4, crmChangesPerSecond: 3 };

export interface TelemetryLedger {
  /** event id → chip, for every event a 2xx answer acknowledged (accepted or already stored). */
  acknowledged: Map<string, string>;
  /** Batches not acknowledged yet: a device keeps them and sends them again (the ingest is idempotent). */
  pending: Array<{ chip: string; body: string; ids: string[] }>;
}

export interface CrmLedger {
  /** Orders whose insert committed, with the last committed status; deleted ones are in `deleted`. */
  live: Map<string, { customerId: string; status: string; amount: number }>;
  deleted: Set<string>;
}

export interface Load {
  telemetry: Tally;
  reports: Tally;
  crm: Tally;
  telemetryLedger: TelemetryLedger;
  crmLedger: CrmLedger;
  stop(): Promise<void>;
}

const ORDER_STATUSES = ['new', 'paid', 'manufacturing', 'shipped', 'fitted'];

function telemetryEvent(now: number, notBeforeMs: number) {
  const movements = randomInt(0, 40);
  return {
    event_id: randomUUID(),
    // Within the last two minutes, but never before the prosthesis was assigned to its owner.
    event_time: new Date(Math.max(notBeforeMs, now - randomInt(1_000, 120_000))).toISOString(),
    movements,
    successful_movements: Math.max(0, movements - randomInt(0, 3)),
    response_time_ms: movements > 0 ? randomInt(40, 200) : null,
    battery_pct: randomInt(5, 100),
    actuator_temp_c: 30 + randomInt(0, 100) / 10,
    error_code: null,
    charging: false,
  };
}

export function startLoad(env: StackEnv, apps: AppSet, fixture: Fixture, sessions: Session[], options: { rates: LoadRates; clientTimeoutMs: number }): Load {
  const { rates, clientTimeoutMs } = options;
  const telemetry = new Tally();
  const reports = new Tally();
  const crm = new Tally();
  const telemetryLedger: TelemetryLedger = { acknowledged: new Map(), pending: [] };
  const crmLedger: CrmLedger = { live: new Map(), deleted: new Set() };
  const secrets = new Map<string, Promise<Uint8Array>>();
  const secretOf = (chip: string) => {
    let secret = secrets.get(chip);
    if (!secret) secrets.set(chip, (secret = deriveDeviceSecret(env.DEVICE_SECRET_KEY!, chip)));
    return secret;
  };

  const sendTelemetry = async () => {
    // A batch left over from a failed send goes first, unchanged: the same events, as a device would.
    const retry = telemetryLedger.pending.shift();
    const chip = retry?.chip ?? fixture.chips[randomInt(0, fixture.chips.length)]!;
    let batch = retry;
    if (!batch) {
      const now = Date.now();
      const events = Array.from({ length: rates.eventsPerBatch }, () => telemetryEvent(now, fixture.readyAtMs));
      batch = { chip, body: JSON.stringify({ chip_id: chip, events }), ids: events.map((e) => e.event_id) };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signTelemetryBody(await secretOf(chip), chip, timestamp, batch.body);
    try {
      const response = await fetch(`${apps.core.url}/api/telemetry`, {
        method: 'POST',
        body: batch.body,
        headers: { 'content-type': 'application/json', 'x-chip-id': chip, 'x-timestamp': String(timestamp), 'x-signature': signature },
        signal: AbortSignal.timeout(clientTimeoutMs),
      });
      const text = await response.text();
      const kind = classifyStatus(response.status, response.headers.get('retry-after'));
      telemetry.record(kind, `${response.status} ${text.slice(0, 160)}`);
      if (kind === 'ok') {
        const answer = JSON.parse(text) as { accepted: number; duplicate: number; rejected: number };
        if (answer.rejected > 0) telemetry.record('error4xx', `2xx but ${answer.rejected} event(s) rejected: ${text.slice(0, 160)}`);
        for (const id of batch.ids) telemetryLedger.acknowledged.set(id, chip);
      } else telemetryLedger.pending.push(batch);
    } catch (error) {
      telemetry.record(classifyError(error), `POST /api/telemetry: ${error instanceof Error ? error.message : String(error)}`);
      telemetryLedger.pending.push(batch);
    }
  };

  const today = () => new Date().toISOString().slice(0, 10);
  const reportPaths = () => ['/api/reports?limit=10&offset=0', '/api/reports/summary', `/api/reports/${today()}`];
  let readCount = 0;
  const readReport = async () => {
    const session = sessions[readCount % sessions.length]!;
    const path = reportPaths()[Math.floor(readCount / sessions.length) % 3]!;
    readCount += 1;
    try {
      const response = await session.browser.fetch(`${session.bffOrigin}${path}`, { signal: AbortSignal.timeout(clientTimeoutMs) });
      const text = await response.text();
      // A day without data yet is a 404 the API documents; it is an answer, not a failure.
      const kind = response.status === 404 && path.includes(today()) ? 'ok' : classifyStatus(response.status, response.headers.get('retry-after'));
      reports.record(kind, `${response.status} GET ${path} (${session.uid}): ${text.slice(0, 160)}`);
    } catch (error) {
      reports.record(classifyError(error), `GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  let changeCount = 0;
  const changeCrm = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), clientTimeoutMs)));
    const outcome = await Promise.race([changeCrmOnce(), timedOut]);
    clearTimeout(timer);
    // A statement still running may yet commit: the checks compare ClickHouse with the CRM itself.
    if (outcome === 'timeout') crm.record('timeout', `CRM statement took over ${clientTimeoutMs} ms`);
  };
  const changeCrmOnce = async () => {
    const owner = fixture.owners[changeCount % fixture.owners.length]!;
    changeCount += 1;
    const live = [...crmLedger.live].filter(([, row]) => row.customerId === owner.customerId);
    const roll = randomInt(0, 10);
    try {
      if (live.length < 3 || roll < 4) {
        const id = randomUUID();
        const amount = randomInt(1000, 90000);
        await fixture.crm`
          insert into crm.orders (id, customer_id, model_id, status, amount, currency)
          values (${id}, ${owner.customerId}, ${fixture.modelId}, 'new', ${amount}, 'EUR')`;
        crmLedger.live.set(id, { customerId: owner.customerId, status: 'new', amount });
      } else if (roll < 8) {
        const [id, row] = live[randomInt(0, live.length)]!;
        const status = ORDER_STATUSES[(ORDER_STATUSES.indexOf(row.status) + 1) % ORDER_STATUSES.length]!;
        const amount = row.amount + 1;
        await fixture.crm`update crm.orders set status = ${status}, amount = ${amount}, updated_at = now() where id = ${id}`;
        crmLedger.live.set(id, { ...row, status, amount });
      } else {
        const [id] = live[randomInt(0, live.length)]!;
        await fixture.crm`delete from crm.orders where id = ${id}`;
        crmLedger.live.delete(id);
        crmLedger.deleted.add(id);
      }
      crm.record('ok');
    } catch (error) {
      // The CRM database refused or dropped the statement: the operator sees an error and the change
      // did not happen (an autocommit statement that failed committed nothing).
      crm.record('retry', error instanceof Error ? error.message : String(error));
    }
  };

  const pacers = [
    startPacer(rates.telemetryBatchesPerSecond, 8, sendTelemetry),
    startPacer(rates.reportReadsPerSecond, 8, readReport),
    // One change at a time, so the ledger's order is the database's commit order.
    startPacer(rates.crmChangesPerSecond, 1, changeCrm),
  ];
  return {
    telemetry,
    reports,
    crm,
    telemetryLedger,
    crmLedger,
    async stop() {
      await Promise.all(pacers.map((p) => p.stop()));
    },
  };
}

/** Sends every batch still pending until each is acknowledged (after the load, before the final check). */
export async function drainPendingTelemetry(env: StackEnv, apps: AppSet, load: Load, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (load.telemetryLedger.pending.length > 0 && Date.now() < deadline) {
    const batch = load.telemetryLedger.pending[0]!;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signTelemetryBody(await deriveDeviceSecret(env.DEVICE_SECRET_KEY!, batch.chip), batch.chip, timestamp, batch.body);
    try {
      const response = await fetch(`${apps.core.url}/api/telemetry`, {
        method: 'POST',
        body: batch.body,
        headers: { 'content-type': 'application/json', 'x-chip-id': batch.chip, 'x-timestamp': String(timestamp), 'x-signature': signature },
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (response.ok) {
        load.telemetryLedger.pending.shift();
        for (const id of batch.ids) load.telemetryLedger.acknowledged.set(id, batch.chip);
        continue;
      }
    } catch {
      /* try again below */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return load.telemetryLedger.pending.length;
}
