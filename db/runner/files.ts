import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A migration file as found on disk: `NNN_name.sql`, applied once, in number order. */
export interface MigrationFile {
  /** The file name without `.sql` (`001_crm_schema`): the key recorded in schema_migrations. */
  version: string;
  number: number;
  path: string;
  sql: string;
  /** sha256 of the file with line endings normalised, so a checkout with CRLF is not a "change". */
  checksum: string;
}

/** What a target's schema_migrations table says was applied. */
export interface AppliedMigration {
  version: string;
  checksum: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex');
}

/**
 * Reads a target's migration folder. Every `.sql` file must be named `NNN_name.sql` (three digits,
 * lower-case snake name) with a unique number; anything else is an error rather than being skipped,
 * because a silently ignored migration is worse than a failed `stack up`.
 */
export function readMigrationFiles(dir: string): MigrationFile[] {
  if (!existsSync(dir)) throw new Error(`migration folder ${dir} does not exist`);
  const files: MigrationFile[] = [];
  const byNumber = new Map<number, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(name);
    if (!match) throw new Error(`${join(dir, name)}: migration files must be named NNN_lower_snake_name.sql`);
    const number = Number(match[1]);
    const clash = byNumber.get(number);
    if (clash) throw new Error(`${dir}: ${clash} and ${name} share the number ${match[1]}`);
    byNumber.set(number, name);
    const path = join(dir, name);
    const sql = readFileSync(path, 'utf8');
    if (sql.trim() === '') throw new Error(`${path} is empty`);
    files.push({ version: name.slice(0, -'.sql'.length), number, path, sql, checksum: checksumOf(sql) });
  }
  return files.sort((a, b) => a.number - b.number);
}

/**
 * The files still to apply. Throws when an applied file was edited afterwards: the database already
 * holds the old version, so the edit would never take effect and environments would drift apart.
 */
export function pendingMigrations(target: string, files: MigrationFile[], applied: AppliedMigration[]): MigrationFile[] {
  const appliedByVersion = new Map(applied.map((m) => [m.version, m.checksum]));
  const changed = files.filter((f) => appliedByVersion.has(f.version) && appliedByVersion.get(f.version) !== f.checksum);
  if (changed.length > 0) {
    const lines = changed.map((f) => `  ${f.path}: applied ${appliedByVersion.get(f.version)?.slice(0, 12)}…, file now ${f.checksum.slice(0, 12)}…`);
    throw new Error(
      `${target}: ${changed.length} already-applied migration(s) changed on disk:\n${lines.join('\n')}\n` +
        'Applied migrations are immutable: restore the file and add a new NNN_name.sql with the change.',
    );
  }
  return files.filter((f) => !appliedByVersion.has(f.version));
}

/** Applied versions with no file on disk (another branch, or a deleted file): reported, not fatal. */
export function unknownAppliedVersions(files: MigrationFile[], applied: AppliedMigration[]): string[] {
  const known = new Set(files.map((f) => f.version));
  return applied.map((m) => m.version).filter((v) => !known.has(v));
}

/**
 * Splits a ClickHouse migration into statements, since its HTTP interface takes one per request.
 * Rule (documented in docs/data-model.md): a statement ends at a line whose last non-blank character
 * is `;`; lines that are only a `--` comment are dropped. A `;` at the end of a line inside a
 * string literal would therefore split it: keep such literals on one line or avoid them.
 */
export function splitClickHouseStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of sql.replaceAll('\r\n', '\n').split('\n')) {
    if (/^\s*--/.test(line)) continue;
    current.push(line);
    if (/;\s*$/.test(line)) {
      const statement = current.join('\n').trim().replace(/;\s*$/, '').trim();
      if (statement !== '') statements.push(statement);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest !== '') throw new Error(`statement without a terminating ';' at the end of a line: ${rest.slice(0, 80)}…`);
  return statements;
}

/**
 * ClickHouse DDL cannot run in a transaction: if a file fails halfway the runner re-runs the whole
 * file next time, so each CREATE must say IF NOT EXISTS (and each DROP IF EXISTS).
 */
export function assertRepeatableClickHouseStatement(statement: string, where: string): void {
  const head = statement.replace(/\s+/g, ' ').toUpperCase();
  if (/^CREATE (TABLE|DATABASE|VIEW|MATERIALIZED VIEW|DICTIONARY) /.test(head) && !/^CREATE [A-Z ]*IF NOT EXISTS /.test(head)) {
    throw new Error(`${where}: "${head.slice(0, 60)}…" must say IF NOT EXISTS (ClickHouse DDL is re-run after a partial failure)`);
  }
  if (/^DROP (TABLE|DATABASE|VIEW|DICTIONARY) /.test(head) && !/^DROP [A-Z ]*IF EXISTS /.test(head)) {
    throw new Error(`${where}: "${head.slice(0, 60)}…" must say IF EXISTS (ClickHouse DDL is re-run after a partial failure)`);
  }
}
