/**
 * Applies the schema migrations of the three stores, each file once, in number order.
 *
 *   node db/migrate.ts [--target crm|telemetry|clickhouse]...
 *
 * `stack up` calls migrateAll(env) after its services are ready. Files: db/migrations/<target>/NNN_name.sql.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadStackEnv, type StackEnv } from '../tools/kit/env.ts';
import { log } from '../tools/kit/log.ts';
import { ROOT } from '../tools/kit/paths.ts';
import { clickHouseConfigFromEnv } from './clickhouse/client.ts';
import { migrateClickHouse } from './runner/clickhouse.ts';
import { migratePostgres } from './runner/postgres.ts';
import type { MigrationReport } from './runner/report.ts';

export const MIGRATION_TARGETS = ['crm', 'telemetry', 'clickhouse'] as const;
export type MigrationTarget = (typeof MIGRATION_TARGETS)[number];

export const MIGRATIONS_DIR = join(ROOT, 'db', 'migrations');

/** Months of raw_telemetry partitions kept ready ahead of now (and behind, for late events). */
const PARTITION_MONTHS_AHEAD = 3;
const PARTITION_MONTHS_BEHIND = 1;

function requireVar(env: StackEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Applies one target's pending migrations. */
export async function migrateTarget(env: StackEnv, target: MigrationTarget, say: (message: string) => void = () => {}): Promise<MigrationReport> {
  const dir = join(MIGRATIONS_DIR, target);
  switch (target) {
    case 'crm':
      return migratePostgres({ target, url: requireVar(env, 'CRM_DATABASE_URL'), dir, log: say });
    case 'telemetry':
      return migratePostgres({
        target,
        url: requireVar(env, 'TELEMETRY_DATABASE_URL'),
        dir,
        log: say,
        // Every run (so every `stack up`) keeps monthly partitions ready; the default partition
        // catches anything outside them, so no insert ever fails for want of a partition.
        afterMigrate: async (sql) => {
          const [row] = await sql`select public.ensure_raw_telemetry_partitions(
            now() - make_interval(months => ${PARTITION_MONTHS_BEHIND}),
            now() + make_interval(months => ${PARTITION_MONTHS_AHEAD})) as created`;
          if (row && Number(row.created) > 0) say(`telemetry: created ${row.created} monthly raw_telemetry partition(s)`);
        },
      });
    case 'clickhouse':
      return migrateClickHouse({ target, config: clickHouseConfigFromEnv(env), dir, log: say });
  }
}

/** True when the error only says that nothing listens there (the service is not part of this `up`). */
function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') return true;
    if (Array.isArray((e as { errors?: unknown[] }).errors) && (e as { errors: unknown[] }).errors.some(isUnreachable)) return true;
  }
  return false;
}

/**
 * Called by `stack up` once its services are ready: migrates every target whose server answers.
 * A target whose server is not running at all (refused connection: `stack up postgres-crm` brings
 * up only that cluster) is skipped with a note; any other failure — wrong password, a bad or
 * changed migration — fails `stack up`.
 */
export async function migrateAll(env: StackEnv): Promise<void> {
  for (const target of MIGRATION_TARGETS) {
    try {
      const report = await migrateTarget(env, target, (message) => log.step('migrate', message));
      log.step('migrate', `${target}: ${report.applied.length} applied, ${report.alreadyApplied} already applied (${report.durationMs} ms)`);
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      log.step('migrate', `${target}: skipped, its server is not running`);
    }
  }
}

const USAGE = 'usage: node db/migrate.ts [--target crm|telemetry|clickhouse]... (default: all targets)';

/** Parses the CLI flags; exported for tests. */
export function parseMigrateArgs(argv: string[]): MigrationTarget[] {
  const targets: MigrationTarget[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--target') value = argv[++i];
    else if (arg.startsWith('--target=')) value = arg.slice('--target='.length);
    else if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    else throw new UsageError(`unknown argument "${arg}"\n${USAGE}`);
    if (value === undefined || value === '') throw new UsageError(`--target needs a value\n${USAGE}`);
    if (!(MIGRATION_TARGETS as readonly string[]).includes(value)) throw new UsageError(`unknown target "${value}"\n${USAGE}`);
    if (!targets.includes(value as MigrationTarget)) targets.push(value as MigrationTarget);
  }
  return targets.length > 0 ? targets : [...MIGRATION_TARGETS];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

async function main(): Promise<void> {
  let targets: MigrationTarget[];
  try {
    targets = parseMigrateArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const env = loadStackEnv();
  // From the command line every named target must be reachable: an explicit request that did
  // nothing should not look like success.
  for (const target of targets) {
    let report: MigrationReport;
    try {
      report = await migrateTarget(env, target, (message) => log.step('migrate', message));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(isUnreachable(error) ? `${target}: its server is not reachable (${message}); is the stack up?` : message.startsWith(target) ? message : `${target}: ${message}`);
    }
    log.step('migrate', `${target}: ${report.applied.length} applied, ${report.alreadyApplied} already applied (${report.durationMs} ms)`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
