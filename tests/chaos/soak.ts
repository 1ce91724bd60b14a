import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { StackEnv } from '../../stack/lib/env.ts';
import { crmReplicated, martShortfall, telemetryMissingInPostgres } from './checks.ts';
import { drainPendingTelemetry, startLoad } from './load.ts';
import { openHarness, type ChaosOptions } from './suite.ts';
import { ANSWER_CLASSES, type Counts } from './tally.ts';

/**
 * The soak: the same mixed load at a steady rate for N minutes, no faults. Samples every app's RSS
 * and open sockets (from /proc/<pid>/fd) every 10 s. Passes with 0 errors, every app's RSS in the
 * last minute within 10 % of its RSS in the minute after the warm-up (medians of the samples), and
 * no more sockets at the end than at any point of the warm-up.
 */

export interface AppSample {
  rssMiB: number;
  sockets: number;
}

export interface SoakApp {
  app: string;
  warmRssMiB: number;
  endRssMiB: number;
  maxRssMiB: number;
  rssChangePct: number;
  warmSocketsMax: number;
  endSockets: number;
  maxSockets: number;
}

export interface SoakResult {
  minutes: number;
  warmUpSeconds: number;
  answers: { telemetry: Counts; reports: Counts; crm: Counts };
  errors: number;
  apps: SoakApp[];
  telemetryAcknowledged: number;
  telemetryMissingInPg: number;
  martMissing: number;
  martExtra: number;
  etlOk: boolean;
  crmMissing: number;
  crmDuplicates: number;
  clean: boolean;
  samples: Array<{ atSeconds: number } & Record<string, AppSample | number>>;
}

export function sampleProcess(pid: number): AppSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      /* closed while listing */
    }
  }
  return { rssMiB: rssKb / 1024, sockets };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const errorsIn = (c: Counts) => ANSWER_CLASSES.filter((k) => k !== 'ok').reduce((sum, k) => sum + c[k], 0);

export async function runSoak(env: StackEnv, options: Omit<ChaosOptions, 'faults'> & { minutes: number }): Promise<SoakResult> {
  const harness = await openHarness(env, options);
  const { apps, fixture, sessions } = harness;
  const totalMs = options.minutes * 60_000;
  const warmUpMs = Math.min(60_000, Math.max(20_000, totalMs / 10));
  const samples: SoakResult['samples'] = [];
  try {
    const load = startLoad(env, apps, fixture, sessions, { rates: options.rates, clientTimeoutMs: options.clientTimeoutMs });
    const started = Date.now();
    const take = () => {
      const sample: SoakResult['samples'][number] = { atSeconds: Math.round((Date.now() - started) / 1000) };
      for (const app of apps.all()) {
        const pid = app.pid();
        if (pid === undefined) throw new Error(`soak: ${app.name} is not running`);
        sample[app.name] = sampleProcess(pid);
      }
      samples.push(sample);
    };
    try {
      while (Date.now() - started < totalMs) {
        take();
        if (samples.length % 6 === 1) options.log(`soak: ${JSON.stringify(samples.at(-1))}`);
        await new Promise((r) => setTimeout(r, Math.min(10_000, Math.max(0, totalMs - (Date.now() - started)))));
      }
      take();
    } finally {
      await load.stop();
    }
    await drainPendingTelemetry(env, apps, load);
    const pg = await telemetryMissingInPostgres(fixture, load.telemetryLedger);
    const crm = await crmReplicated(fixture, load.crmLedger, options.convergeTimeoutMs);
    const mart = await martShortfall(env, fixture, { exact: true, coreUrl: apps.core.url });
    const warmSamples = samples.filter((s) => s.atSeconds * 1000 <= warmUpMs);
    // RSS moves by ±15 % within seconds as the collector runs (seen in a 3-minute run), so each end is
    // the median of a minute of samples: the minute after the warm-up, and the last minute.
    const windowMs = Math.min(60_000, (totalMs - warmUpMs) / 2);
    const anchorWindow = samples.filter((s) => s.atSeconds * 1000 >= warmUpMs && s.atSeconds * 1000 <= warmUpMs + windowMs);
    const endWindow = samples.filter((s) => s.atSeconds * 1000 >= totalMs - windowMs);
    const end = samples.at(-1)!;
    const appRows: SoakApp[] = apps.all().map((app) => {
      const of = (s: SoakResult['samples'][number]) => s[app.name] as AppSample;
      const warmRss = median(anchorWindow.map((s) => of(s).rssMiB));
      const endRss = median(endWindow.map((s) => of(s).rssMiB));
      return {
        app: app.name,
        warmRssMiB: warmRss,
        endRssMiB: endRss,
        maxRssMiB: Math.max(...samples.filter((s) => s.atSeconds * 1000 >= warmUpMs).map((s) => of(s).rssMiB)),
        rssChangePct: ((endRss - warmRss) / warmRss) * 100,
        warmSocketsMax: Math.max(...warmSamples.map((s) => of(s).sockets)),
        endSockets: of(end).sockets,
        maxSockets: Math.max(...samples.map((s) => of(s).sockets)),
      };
    });
    const answers = { telemetry: load.telemetry.snapshot(), reports: load.reports.snapshot(), crm: load.crm.snapshot() };
    const errors = errorsIn(answers.telemetry) + errorsIn(answers.reports) + errorsIn(answers.crm);
    const clean =
      errors === 0 &&
      appRows.every((a) => Math.abs(a.rssChangePct) <= 10 && a.endSockets <= a.warmSocketsMax) &&
      pg.missing === 0 &&
      mart.missing === 0 &&
      mart.extra === 0 &&
      mart.etlOk &&
      crm.missing === 0 &&
      crm.duplicates === 0;
    return {
      minutes: options.minutes,
      warmUpSeconds: warmUpMs / 1000,
      answers,
      errors,
      apps: appRows,
      telemetryAcknowledged: pg.acknowledged,
      telemetryMissingInPg: pg.missing,
      martMissing: mart.missing,
      martExtra: mart.extra,
      etlOk: mart.etlOk,
      crmMissing: crm.missing,
      crmDuplicates: crm.duplicates,
      clean,
      samples,
    };
  } finally {
    await harness.close();
  }
}

export function renderSoak(soak: SoakResult): string {
  const a = soak.answers;
  const lines = [
    `${soak.minutes} min of steady load (warm-up ${soak.warmUpSeconds} s): telemetry ${a.telemetry.ok} ok, reports ${a.reports.ok} ok, CRM writes ${a.crm.ok} ok; errors ${soak.errors}`,
    `acknowledged events ${soak.telemetryAcknowledged}, missing in PG ${soak.telemetryMissingInPg}, missing in mart ${soak.martMissing} (extra ${soak.martExtra}); CRM missing in ClickHouse ${soak.crmMissing}, duplicates ${soak.crmDuplicates}`,
    '',
    '| app | RSS after warm-up MiB (median, 1st min) | RSS at end MiB (median, last min) | max RSS MiB | change | sockets (max in warm-up) | sockets at end | max sockets |',
    '|---|---|---|---|---|---|---|---|',
    ...soak.apps.map(
      (x) =>
        `| ${x.app} | ${x.warmRssMiB.toFixed(1)} | ${x.endRssMiB.toFixed(1)} | ${x.maxRssMiB.toFixed(1)} | ${x.rssChangePct >= 0 ? '+' : ''}${x.rssChangePct.toFixed(1)} % | ${x.warmSocketsMax} | ${x.endSockets} | ${x.maxSockets} |`,
    ),
    '',
    soak.clean ? 'soak: clean' : 'soak: FINDING (see the figures above)',
  ];
  return lines.join('\n');
}
