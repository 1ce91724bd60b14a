/**
 * Deterministic demo data for the CRM and telemetry databases.
 *
 *   node demo/generate.ts [--seed N] [--customers N] [--days N] [--end-date YYYY-MM-DD]
 *                         [--events-per-hour N] [--bulk-rows N] [--crm-only | --telemetry-only] [--dry-run]
 *
 * Same flags → same rows. Re-running is safe: CRM rows are upserted by natural key (unchanged rows
 * are not touched) and telemetry events already stored are skipped.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { loadStackEnv, type StackEnv } from '../tools/kit/env.ts';
import { buildCrmDataset, type CrmDataset } from './crm-data.ts';
import { createOwnerRefs } from '../common/identity/owner-ref.ts';
import { fillMissingOwnerRefs, loadCrm, type CrmLoadResult } from './load-crm.ts';
import { copyLine, loadTelemetry, type TelemetryLoadResult } from './load-telemetry.ts';
import { DAY_MS, EVENTS_PER_HOUR_CHOICES, forEachTelemetryRow, type TelemetryChip } from './telemetry-data.ts';

export interface GenerateOptions {
  seed: number;
  customers: number;
  days: number;
  /** Last UTC day included, as YYYY-MM-DD. */
  endDate: string;
  eventsPerHour: number;
  bulkRows: number | undefined;
  crm: boolean;
  telemetry: boolean;
  dryRun: boolean;
}

export const USAGE = `usage: node demo/generate.ts [options]
  --seed N              random seed, 0..4294967295 (default 42)
  --customers N         CRM customers, demo prosthesis owners first (default 20, max 100000)
  --days N              days of telemetry ending with --end-date (default 14, max 3650)
  --end-date YYYY-MM-DD last UTC day of telemetry (default today; never past the current time)
  --events-per-hour N   events per prosthesis per hour, one of ${EVENTS_PER_HOUR_CHOICES.join(', ')} (default 12)
  --bulk-rows N         exactly N telemetry rows (benchmark volume): --days grows to cover them
  --crm-only            write only the CRM database
  --telemetry-only      write only the telemetry database
  --dry-run             generate and fingerprint everything, write nothing`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function integerFlag(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw)) throw new UsageError(`${name} needs a whole number, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${raw}`);
  return value;
}

function todayUtc(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function parseEndDate(raw: string | undefined): string {
  if (raw === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw new UsageError(`--end-date needs YYYY-MM-DD, got ${JSON.stringify(raw ?? '')}`);
  const date = new Date(`${raw}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== raw) throw new UsageError(`--end-date ${raw} is not a calendar day`);
  if (date.getUTCFullYear() < 2000 || date.getUTCFullYear() > 2100) throw new UsageError(`--end-date ${raw} is outside 2000…2100`);
  return raw;
}

/** Parses and validates the flags; every problem is a UsageError with the usage text. */
export function parseGenerateArgs(argv: string[], now = new Date()): GenerateOptions {
  const options: GenerateOptions = {
    seed: 42,
    customers: 20,
    days: 14,
    endDate: todayUtc(now),
    eventsPerHour: 12,
    bulkRows: undefined,
    crm: true,
    telemetry: true,
    dryRun: false,
  };
  let crmOnly = false;
  let telemetryOnly = false;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (seen.has(name)) throw new UsageError(`${name} given twice\n${USAGE}`);
    seen.add(name);
    try {
      switch (name) {
        case '--seed':
          options.seed = integerFlag(name, takeValue(), 0, 4294967295);
          break;
        case '--customers':
          options.customers = integerFlag(name, takeValue(), 1, 100_000);
          break;
        case '--days':
          options.days = integerFlag(name, takeValue(), 1, 3650);
          break;
        case '--end-date':
          options.endDate = parseEndDate(takeValue());
          break;
        case '--events-per-hour': {
          const value = integerFlag(name, takeValue(), 1, 60);
          if (!(EVENTS_PER_HOUR_CHOICES as readonly number[]).includes(value)) {
            throw new UsageError(`--events-per-hour must divide the hour: one of ${EVENTS_PER_HOUR_CHOICES.join(', ')}; got ${value}`);
          }
          options.eventsPerHour = value;
          break;
        }
        case '--bulk-rows':
          options.bulkRows = integerFlag(name, takeValue(), 1, 1_000_000_000);
          break;
        case '--crm-only':
        case '--telemetry-only':
        case '--dry-run':
          if (eq > 0) throw new UsageError(`${name} takes no value`);
          if (name === '--crm-only') crmOnly = true;
          else if (name === '--telemetry-only') telemetryOnly = true;
          else options.dryRun = true;
          break;
        case '--help':
        case '-h':
          throw new UsageError(USAGE);
        default:
          throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
      }
    } catch (error) {
      if (error instanceof UsageError && error.message !== USAGE) throw new UsageError(`${error.message}\n${USAGE}`);
      throw error;
    }
  }
  if (crmOnly && telemetryOnly) throw new UsageError(`--crm-only and --telemetry-only exclude each other\n${USAGE}`);
  if (crmOnly && options.bulkRows !== undefined) throw new UsageError(`--bulk-rows is about telemetry; it makes no sense with --crm-only\n${USAGE}`);
  options.crm = !telemetryOnly;
  options.telemetry = !crmOnly;
  return options;
}

export interface GenerationPlan {
  crm: CrmDataset;
  chips: TelemetryChip[];
  fromMs: number;
  toMs: number;
  days: number;
  maxRows: number | undefined;
}

/**
 * Resolves the options into concrete data: the CRM dataset and the telemetry window. The window ends
 * with --end-date but never after `now` (no future telemetry); --bulk-rows stretches it backwards
 * until it holds that many events. CRM dates are anchored at the first of the month the window
 * starts in, so re-runs within a month leave the CRM rows unchanged.
 */
export function planGeneration(options: GenerateOptions, now = new Date()): GenerationPlan {
  const endExclusive = Math.min(Date.parse(`${options.endDate}T00:00:00Z`) + DAY_MS, now.getTime());
  const provisional = buildCrmDataset({ seed: options.seed, customers: options.customers, before: new Date(endExclusive) });
  const rowsPerDay = provisional.prostheses.length * 24 * options.eventsPerHour;
  const days = options.bulkRows === undefined ? options.days : Math.max(1, Math.ceil(options.bulkRows / rowsPerDay));
  if (days > 3650) throw new UsageError(`--bulk-rows ${options.bulkRows} needs ${days} days with ${provisional.prostheses.length} prostheses; raise --customers or --events-per-hour`);
  const fromMs = endExclusive - days * DAY_MS;
  const anchor = new Date(fromMs);
  const before = new Date(Date.UTC(anchor.getUTCFullYear(), anchor.getUTCMonth(), 1));
  const crm = buildCrmDataset({ seed: options.seed, customers: options.customers, before });
  const chips = crm.prostheses.map((p) => ({ chipId: p.chipId, region: p.region }));
  return { crm, chips, fromMs, toMs: endExclusive, days, maxRows: options.bulkRows };
}

/** sha256 over every generated row in order: equal fingerprints mean identical data. */
export function fingerprintPlan(plan: GenerationPlan, options: Pick<GenerateOptions, 'seed' | 'eventsPerHour'>): { crm: string; telemetry: string; telemetryRows: number } {
  const crm = createHash('sha256').update(JSON.stringify(plan.crm)).digest('hex');
  const hash = createHash('sha256');
  const telemetryRows = forEachTelemetryRow(
    { seed: options.seed, eventsPerHour: options.eventsPerHour, chips: plan.chips, fromMs: plan.fromMs, toMs: plan.toMs, maxRows: plan.maxRows },
    (row) => hash.update(copyLine(row)),
  );
  return { crm, telemetry: hash.digest('hex'), telemetryRows };
}

export interface GenerateResult {
  plan: GenerationPlan;
  crm?: CrmLoadResult;
  telemetry?: TelemetryLoadResult;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Writes the planned data into the stack's databases. */
export async function runGenerate(env: StackEnv, options: GenerateOptions, say: (line: string) => void = () => {}, now = new Date()): Promise<GenerateResult> {
  const plan = planGeneration(options, now);
  const result: GenerateResult = { plan };
  say(
    `plan: seed ${options.seed}, ${plan.crm.customers.length} customers, ${plan.crm.prostheses.length} prostheses, ${plan.crm.orders.length} orders; ` +
      `telemetry ${new Date(plan.fromMs).toISOString()} … ${new Date(plan.toMs).toISOString()} (${plan.days} days, ${options.eventsPerHour}/h` +
      `${plan.maxRows !== undefined ? `, capped at ${formatCount(plan.maxRows)} rows` : ''})`,
  );
  if (options.crm) {
    const url = env.CRM_DATABASE_URL;
    if (!url) throw new Error('CRM_DATABASE_URL is not set');
    if (!env.OWNER_REF_KEY) throw new Error('OWNER_REF_KEY is not set: run `node stack/cli.ts env` once to generate it');
    const owners = await createOwnerRefs(env.OWNER_REF_KEY);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const started = performance.now();
      result.crm = await loadCrm(sql, plan.crm, owners);
      const parts = Object.entries(result.crm).map(([table, c]) => `${table} +${c.inserted} ~${c.updated} =${c.unchanged}`);
      say(`crm: ${parts.join(', ')} (inserted ~updated =unchanged) in ${Math.round(performance.now() - started)} ms`);
      const filled = await fillMissingOwnerRefs(sql, owners);
      if (filled > 0) say(`crm: gave ${filled} other customer(s) their owner ref`);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  if (options.telemetry) {
    const url = env.TELEMETRY_DATABASE_URL;
    if (!url) throw new Error('TELEMETRY_DATABASE_URL is not set');
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const expected = plan.maxRows;
      let lastPrint = 0;
      result.telemetry = await loadTelemetry(sql, {
        seed: options.seed,
        eventsPerHour: options.eventsPerHour,
        chips: plan.chips,
        fromMs: plan.fromMs,
        toMs: plan.toMs,
        maxRows: plan.maxRows,
        onProgress: ({ generated, inserted, elapsedMs }) => {
          if (elapsedMs - lastPrint < 2000) return;
          lastPrint = elapsedMs;
          const of = expected !== undefined ? `/${formatCount(expected)}` : '';
          say(`telemetry: ${formatCount(generated)}${of} rows, ${formatCount(inserted)} new, ${formatCount((generated / elapsedMs) * 1000)} rows/s`);
        },
      });
      const t = result.telemetry;
      say(
        `telemetry: ${formatCount(t.generated)} rows generated, ${formatCount(t.inserted)} inserted, ${formatCount(t.skipped)} already present, ` +
          `${(t.elapsedMs / 1000).toFixed(1)} s, ${formatCount((t.generated / t.elapsedMs) * 1000)} rows/s`,
      );
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  return result;
}

async function main(): Promise<void> {
  let options: GenerateOptions;
  try {
    options = parseGenerateArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const say = (line: string) => console.log(`[demo] ${line}`);
  if (options.dryRun) {
    const plan = planGeneration(options);
    const started = performance.now();
    const fingerprint = fingerprintPlan(plan, options);
    const ms = performance.now() - started;
    say(`dry run: ${plan.crm.customers.length} customers, ${plan.crm.prostheses.length} prostheses, ${plan.crm.orders.length} orders, ${formatCount(fingerprint.telemetryRows)} telemetry rows`);
    say(`dry run: generated and hashed in ${(ms / 1000).toFixed(2)} s (${formatCount((fingerprint.telemetryRows / ms) * 1000)} rows/s)`);
    say(`fingerprint crm ${fingerprint.crm.slice(0, 16)} telemetry ${fingerprint.telemetry.slice(0, 16)}`);
    return;
  }
  await runGenerate(loadStackEnv(), options, say);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
