import { JOB_NAMES, type JobName } from './runs/run-history.ts';
import { parseBackfillRange } from './runs/backfill-range.ts';

export const USAGE = `usage: node jobs/cli.ts <command> [flags]

commands:
  run-once                          one incremental ETL run (telemetry received since the watermark)
  backfill --from YYYY-MM-DD --to YYYY-MM-DD [--chip ID]...
                                    recompute every hour of those UTC days (inclusive); watermark untouched
  runs [--limit N] [--job etl|backfill|retention]
                                    the last finished runs, newest first (default 20)
  retention [--dry-run]             drop months past the retention horizons (--dry-run: only list them)

flags for every command:
  --no-invalidate   do not tell core to drop cached reports (run-once, backfill: e.g. core not running yet)
  --json            print the result as JSON
  --stack-env       take connection settings from the local stack (.stack/stack.env), for development

exit status: 0 done, 1 the run failed, 2 bad usage or configuration, 3 another process holds the job's lock`;

export type CliCommand =
  | { command: 'run-once'; invalidate: boolean }
  | { command: 'backfill'; from: Date; to: Date; days: number; chips: string[]; invalidate: boolean }
  | { command: 'runs'; limit: number; job?: JobName }
  | { command: 'retention'; dryRun: boolean }
  | { command: 'help' };

export interface CliArgs {
  command: CliCommand;
  json: boolean;
  stackEnv: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const CHIP = /^[A-Za-z0-9_-]{4,64}$/;

/** Parses and validates the CLI's arguments; every mistake is a UsageError naming it. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { command: { command: 'help' }, json: false, stackEnv: false };
  const flags = new Map<string, string[]>();
  const switches = new Set<string>();
  const VALUED = new Set(['--from', '--to', '--chip', '--limit', '--job']);
  const SWITCHES = new Set(['--no-invalidate', '--json', '--stack-env', '--dry-run']);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES.has(flag)) {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      switches.add(flag);
      continue;
    }
    if (!VALUED.has(flag)) throw new UsageError(`unknown argument "${arg.slice(0, 40)}"`);
    const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    flags.set(flag, [...(flags.get(flag) ?? []), value]);
  }
  const allowed: Record<string, { valued: string[]; switches: string[] }> = {
    'run-once': { valued: [], switches: ['--no-invalidate'] },
    backfill: { valued: ['--from', '--to', '--chip'], switches: ['--no-invalidate'] },
    runs: { valued: ['--limit', '--job'], switches: [] },
    retention: { valued: [], switches: ['--dry-run'] },
  };
  const spec = allowed[name];
  if (!spec) throw new UsageError(`unknown command "${name.slice(0, 40)}"`);
  for (const flag of flags.keys()) if (!spec.valued.includes(flag)) throw new UsageError(`${name} does not take ${flag}`);
  for (const flag of switches) if (!spec.switches.includes(flag) && flag !== '--json' && flag !== '--stack-env') throw new UsageError(`${name} does not take ${flag}`);
  const single = (flag: string): string | undefined => {
    const values = flags.get(flag);
    if (values && values.length > 1) throw new UsageError(`${flag} given more than once`);
    return values?.[0];
  };
  const common = { json: switches.has('--json'), stackEnv: switches.has('--stack-env') };
  const invalidate = !switches.has('--no-invalidate');

  switch (name) {
    case 'run-once':
      return { ...common, command: { command: 'run-once', invalidate } };
    case 'backfill': {
      const from = single('--from');
      const to = single('--to');
      if (!from || !to) throw new UsageError('backfill needs --from YYYY-MM-DD and --to YYYY-MM-DD');
      const range = parseBackfillRange(from, to);
      if (!range.ok) throw new UsageError(range.error);
      const chips = flags.get('--chip') ?? [];
      const bad = chips.find((chip) => !CHIP.test(chip));
      if (bad !== undefined) throw new UsageError(`--chip: "${bad.slice(0, 70)}" is not a chip id`);
      return { ...common, command: { command: 'backfill', from: range.from, to: range.to, days: range.days, chips, invalidate } };
    }
    case 'runs': {
      const limitText = single('--limit') ?? '20';
      if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500) throw new UsageError('--limit must be an integer from 1 to 500');
      const job = single('--job');
      if (job !== undefined && !(JOB_NAMES as readonly string[]).includes(job)) throw new UsageError(`--job must be one of ${JOB_NAMES.join(', ')}`);
      return { ...common, command: { command: 'runs', limit: Number(limitText), ...(job ? { job: job as JobName } : {}) } };
    }
    default:
      return { ...common, command: { command: 'retention', dryRun: switches.has('--dry-run') } };
  }
}
