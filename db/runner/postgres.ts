import postgres from 'postgres';
import { pendingMigrations, readMigrationFiles, unknownAppliedVersions, type AppliedMigration, type MigrationFile } from './files.ts';
import type { MigrationReport } from './report.ts';

type Sql = postgres.Sql;

export interface PostgresMigrationOptions {
  /** Label for messages: `crm`, `telemetry`, or a test's name. */
  target: string;
  url: string;
  dir: string;
  /** Where applied files are recorded; a schema-qualified plain identifier. */
  historyTable?: string;
  /** Runs after the files on every call (e.g. creating partitions ahead), inside the run's lock. */
  afterMigrate?: (sql: Sql) => Promise<void>;
  log?: (message: string) => void;
}

const QUALIFIED_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;

/**
 * Applies a PostgreSQL target's pending migrations, each file in its own transaction together with
 * its schema_migrations row, so a file is either fully applied and recorded or not at all. A
 * session advisory lock serialises concurrent runners (two `stack up`s, CI and a developer).
 */
export async function migratePostgres(options: PostgresMigrationOptions): Promise<MigrationReport> {
  const { target, url, dir, historyTable = 'public.schema_migrations', afterMigrate, log = () => {} } = options;
  if (!QUALIFIED_IDENTIFIER.test(historyTable)) throw new Error(`historyTable must look like schema.table, got "${historyTable}"`);
  const files = readMigrationFiles(dir);
  const started = performance.now();
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, idle_timeout: 5 });
  try {
    const lockKey = `bionicpro.migrate:${historyTable}`;
    await sql`select pg_advisory_lock(hashtext(${lockKey}))`;
    try {
      await sql.unsafe(
        `create table if not exists ${historyTable} (
           version     text primary key,
           checksum    text not null,
           applied_at  timestamptz not null default now(),
           duration_ms integer not null
         )`,
      );
      const applied = await sql.unsafe<AppliedMigration[]>(`select version, checksum from ${historyTable}`);
      const unknown = unknownAppliedVersions(files, applied);
      if (unknown.length > 0) log(`${target}: applied migrations without a file here (another branch?): ${unknown.join(', ')}`);
      const pending = pendingMigrations(target, files, applied);
      const appliedNow: string[] = [];
      for (const file of pending) {
        const fileStarted = performance.now();
        await sql.begin(async (tx) => {
          await runFile(tx, file);
          const durationMs = Math.round(performance.now() - fileStarted);
          await tx.unsafe(`insert into ${historyTable} (version, checksum, duration_ms) values ($1, $2, $3)`, [file.version, file.checksum, durationMs]);
        });
        appliedNow.push(file.version);
        log(`${target}: applied ${file.version} in ${Math.round(performance.now() - fileStarted)} ms`);
      }
      if (afterMigrate) await afterMigrate(sql);
      return { target, applied: appliedNow, alreadyApplied: files.length - pending.length, durationMs: Math.round(performance.now() - started) };
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lockKey}))`.catch(() => {});
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Runs a whole file (several statements, so the simple protocol) and points at the failing line. */
async function runFile(tx: Sql, file: MigrationFile): Promise<void> {
  try {
    await tx.unsafe(file.sql).simple();
  } catch (error) {
    const pgError = error as { message?: string; position?: string | number; code?: string };
    const position = Number(pgError.position);
    const line = Number.isInteger(position) && position > 0 ? `:${file.sql.slice(0, position).split('\n').length}` : '';
    throw new Error(`${file.path}${line}: ${pgError.message ?? String(error)}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`, { cause: error });
  }
}
