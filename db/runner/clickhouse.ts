import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, type ClickHouseConfig } from '../clickhouse/client.ts';
import { chDateTime, chIdentifier, chInt, chSql, floorToSecond } from '../clickhouse/sql.ts';
import {
  assertRepeatableClickHouseStatement,
  pendingMigrations,
  readMigrationFiles,
  splitClickHouseStatements,
  unknownAppliedVersions,
  type AppliedMigration,
} from './files.ts';
import type { MigrationReport } from './report.ts';

export interface ClickHouseMigrationOptions {
  target?: string;
  /** Admin account; `config.database` is created if missing and is where the files' tables go. */
  config: ClickHouseConfig;
  dir: string;
  historyTable?: string;
  log?: (message: string) => void;
}

/**
 * Applies pending ClickHouse migrations. Each file is split into statements (one per HTTP request)
 * that run in order; the file is recorded in `schema_migrations` only after all of them succeeded.
 * ClickHouse has no transactional DDL, so a file that failed halfway is simply re-run from the top
 * next time, which is why every statement must be repeatable (IF NOT EXISTS) — checked before any
 * statement runs. Files use unqualified table names: the client's database decides where they go,
 * which lets tests apply the real files into a scratch database.
 */
export async function migrateClickHouse(options: ClickHouseMigrationOptions): Promise<MigrationReport> {
  const { target = 'clickhouse', config, dir, historyTable = 'schema_migrations', log = () => {} } = options;
  const files = readMigrationFiles(dir);
  const statementsByFile = new Map(
    files.map((file) => {
      const statements = splitClickHouseStatements(file.sql);
      statements.forEach((s, i) => assertRepeatableClickHouseStatement(s, `${file.path} statement ${i + 1}`));
      return [file.version, statements] as const;
    }),
  );
  const started = performance.now();
  const server = createClickHouseClient({ ...config, database: 'default' });
  try {
    await server.command({ query: chSql`CREATE DATABASE IF NOT EXISTS ${chIdentifier(config.database)}`.text });
  } finally {
    await server.close();
  }
  const client = createClickHouseClient(config);
  try {
    const table = chIdentifier(historyTable);
    await client.command({ query: historyTableDdl(historyTable) });
    const applied = await readApplied(client, historyTable);
    const unknown = unknownAppliedVersions(files, applied);
    if (unknown.length > 0) log(`${target}: applied migrations without a file here (another branch?): ${unknown.join(', ')}`);
    const pending = pendingMigrations(target, files, applied);
    const appliedNow: string[] = [];
    for (const file of pending) {
      const fileStarted = performance.now();
      const statements = statementsByFile.get(file.version) ?? [];
      for (const [i, statement] of statements.entries()) {
        try {
          await client.command({ query: statement });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`${file.path} statement ${i + 1} of ${statements.length}: ${message}\n  ${statement.slice(0, 200)}`, { cause: error });
        }
      }
      const durationMs = Math.round(performance.now() - fileStarted);
      await client.command({
        query: chSql`INSERT INTO ${table} (version, checksum, applied_at, duration_ms, statements)
          VALUES (${file.version}, ${file.checksum}, ${chDateTime(floorToSecond(new Date()))}, ${chInt(durationMs)}, ${chInt(statements.length)})`.text,
      });
      appliedNow.push(file.version);
      log(`${target}: applied ${file.version} (${statements.length} statements) in ${durationMs} ms`);
    }
    return { target, applied: appliedNow, alreadyApplied: files.length - pending.length, durationMs: Math.round(performance.now() - started) };
  } finally {
    await client.close();
  }
}

/** The history table (also checked on a current engine by tests/db/clickhouse-ddl.int.test.ts). */
export function historyTableDdl(historyTable: string): string {
  return chSql`CREATE TABLE IF NOT EXISTS ${chIdentifier(historyTable)} (
    version String,
    checksum String,
    applied_at DateTime('UTC'),
    duration_ms UInt32,
    statements UInt32
  ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`.text;
}

async function readApplied(client: ClickHouseClient, historyTable: string): Promise<AppliedMigration[]> {
  // argMax rather than FINAL: the newest record per version even before a background merge.
  const result = await client.query({
    query: chSql`SELECT version, argMax(checksum, applied_at) AS checksum FROM ${chIdentifier(historyTable)} GROUP BY version`.text,
    format: 'JSONEachRow',
  });
  return result.json<AppliedMigration>();
}
