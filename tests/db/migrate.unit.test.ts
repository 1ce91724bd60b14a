import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR, MIGRATION_TARGETS, parseMigrateArgs } from '../../db/migrate.ts';
import {
  assertRepeatableClickHouseStatement,
  checksumOf,
  pendingMigrations,
  readMigrationFiles,
  splitClickHouseStatements,
  unknownAppliedVersions,
} from '../../db/runner/files.ts';

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('readMigrationFiles', () => {
  test('orders by number and ignores non-.sql files', () => {
    const dir = folder({ '010_b.sql': 'select 2;', '002_a.sql': 'select 1;', 'README.md': 'x' });
    expect(readMigrationFiles(dir).map((f) => f.version)).toEqual(['002_a', '010_b']);
  });

  test('refuses badly named, duplicate-numbered and empty files', () => {
    expect(() => readMigrationFiles(folder({ '1_a.sql': 'x' }))).toThrow(/NNN_lower_snake_name/);
    expect(() => readMigrationFiles(folder({ '001_A.sql': 'x' }))).toThrow(/NNN_lower_snake_name/);
    expect(() => readMigrationFiles(folder({ '001_a.sql': 'x', '001_b.sql': 'y' }))).toThrow(/share the number 001/);
    expect(() => readMigrationFiles(folder({ '001_a.sql': '  \n' }))).toThrow(/empty/);
    expect(() => readMigrationFiles('/nonexistent/migrations')).toThrow(/does not exist/);
  });

  test('checksum ignores CRLF versus LF only', () => {
    expect(checksumOf('a\r\nb')).toBe(checksumOf('a\nb'));
    expect(checksumOf('a\nb')).not.toBe(checksumOf('a\nb '));
  });

  test('the repository folders are valid for every target', () => {
    for (const target of MIGRATION_TARGETS) expect(readMigrationFiles(join(MIGRATIONS_DIR, target)).length).toBeGreaterThan(0);
  });
});

describe('pendingMigrations', () => {
  const files = readMigrationFiles(join(MIGRATIONS_DIR, 'clickhouse'));

  test('everything is pending at first, nothing once all are recorded', () => {
    expect(pendingMigrations('t', files, [])).toEqual(files);
    expect(pendingMigrations('t', files, files.map((f) => ({ version: f.version, checksum: f.checksum })))).toEqual([]);
  });

  test('a changed applied file is an error naming it', () => {
    const applied = files.map((f, i) => ({ version: f.version, checksum: i === 0 ? 'f'.repeat(64) : f.checksum }));
    expect(() => pendingMigrations('clickhouse', files, applied)).toThrow(/clickhouse: 1 already-applied migration\(s\) changed on disk/);
    expect(() => pendingMigrations('clickhouse', files, applied)).toThrow(new RegExp(`${files[0]!.version}\\.sql: applied ffffffffffff…`));
  });

  test('applied versions without a file are reported', () => {
    expect(unknownAppliedVersions(files, [{ version: '999_gone', checksum: 'x' }])).toEqual(['999_gone']);
  });
});

describe('splitClickHouseStatements', () => {
  test('splits at a line ending in ";" and drops comment lines', () => {
    const sql = '-- header; with semicolon;\nCREATE TABLE IF NOT EXISTS a (x UInt8)\n  ENGINE = Memory;\n\n-- between\nSELECT 1;  \n';
    expect(splitClickHouseStatements(sql)).toEqual(['CREATE TABLE IF NOT EXISTS a (x UInt8)\n  ENGINE = Memory', 'SELECT 1']);
  });

  test('a ";" inside a line does not split', () => {
    expect(splitClickHouseStatements("SELECT 'a;b', 2;\n")).toEqual(["SELECT 'a;b', 2"]);
  });

  test('a statement without a terminator is an error', () => {
    expect(() => splitClickHouseStatements('SELECT 1;\nSELECT 2\n')).toThrow(/without a terminating/);
  });
});

describe('assertRepeatableClickHouseStatement', () => {
  test('CREATE needs IF NOT EXISTS and DROP needs IF EXISTS', () => {
    expect(() => assertRepeatableClickHouseStatement('CREATE TABLE t (a UInt8) ENGINE = Memory', 'f')).toThrow(/IF NOT EXISTS/);
    expect(() => assertRepeatableClickHouseStatement('create  table\nt (a UInt8)', 'f')).toThrow(/IF NOT EXISTS/);
    expect(() => assertRepeatableClickHouseStatement('DROP TABLE t', 'f')).toThrow(/IF EXISTS/);
    expect(() => assertRepeatableClickHouseStatement('CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Memory', 'f')).not.toThrow();
    expect(() => assertRepeatableClickHouseStatement('DROP TABLE IF EXISTS t', 'f')).not.toThrow();
    expect(() => assertRepeatableClickHouseStatement('ALTER TABLE t DROP PARTITION 202401', 'f')).not.toThrow();
  });
});

describe('parseMigrateArgs', () => {
  test('defaults to all targets; accepts repeated and = forms', () => {
    expect(parseMigrateArgs([])).toEqual(['crm', 'telemetry', 'clickhouse']);
    expect(parseMigrateArgs(['--target', 'clickhouse', '--target=crm', '--target', 'crm'])).toEqual(['clickhouse', 'crm']);
  });

  test('rejects unknown flags, targets and missing values', () => {
    expect(() => parseMigrateArgs(['--target', 'mysql'])).toThrow(/unknown target "mysql"/);
    expect(() => parseMigrateArgs(['--target'])).toThrow(/needs a value/);
    expect(() => parseMigrateArgs(['--target='])).toThrow(/needs a value/);
    expect(() => parseMigrateArgs(['--force'])).toThrow(/unknown argument "--force"/);
    expect(() => parseMigrateArgs(['crm'])).toThrow(/unknown argument/);
  });
});
