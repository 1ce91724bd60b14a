import type { ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import postgres from 'postgres';
import { clickHouseConfigFromEnv, createClickHouseClient, defaultTransport } from '../../../db/clickhouse/client.ts';
import { chIdentifier, chSql } from '../../../db/clickhouse/sql.ts';
import { MIGRATIONS_DIR } from '../../../db/migrate.ts';
import { migrateClickHouse } from '../../../db/runner/clickhouse.ts';
import { readMigrationFiles } from '../../../db/runner/files.ts';
import type { StackEnv } from '../../../stack/lib/env.ts';

/**
 * Throwaway copies of the real schemas, so a test's ETL, CDC and retention runs touch nothing
 * shared: a ClickHouse database with the real migrations applied, and a telemetry PostgreSQL
 * schema built from the real telemetry migrations with `public.` replaced by the scratch schema.
 */
export function scratchName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export interface ScratchClickHouse {
  database: string;
  client: ClickHouseClient;
  drop(): Promise<void>;
}

export async function createScratchClickHouse(env: StackEnv, prefix = 'jobs_test'): Promise<ScratchClickHouse> {
  const database = scratchName(prefix);
  const config = { ...clickHouseConfigFromEnv(env, { database }), requestTimeoutMs: 120_000 };
  await migrateClickHouse({ config, dir: join(MIGRATIONS_DIR, 'clickhouse') });
  // Tests run under Bun: the transport the Bun entry uses.
  const client = createClickHouseClient(config, defaultTransport());
  return {
    database,
    client,
    async drop() {
      await client.close();
      const admin = createClickHouseClient(clickHouseConfigFromEnv(env, { database: 'default' }));
      try {
        await admin.command({ query: chSql`DROP DATABASE IF EXISTS ${chIdentifier(database)}`.text });
      } finally {
        await admin.close();
      }
    },
  };
}

export interface ScratchTelemetry {
  schema: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

export async function createScratchTelemetry(env: StackEnv, prefix = 'jobs_test', poolSize = 4): Promise<ScratchTelemetry> {
  const schema = scratchName(prefix);
  const sql = postgres(env.TELEMETRY_DATABASE_URL!, { max: poolSize, onnotice: () => {}, connection: { TimeZone: 'UTC' } });
  // Every telemetry migration, in the runner's order (the files name their objects `public.…`).
  const migrations = readMigrationFiles(join(MIGRATIONS_DIR, 'telemetry')).map((file) => file.sql.replaceAll('public.', `${schema}.`));
  await sql.begin(async (tx) => {
    await tx.unsafe(`create schema ${schema}`);
    for (const migration of migrations) await tx.unsafe(migration).simple();
  });
  return {
    schema,
    sql,
    async drop() {
      await sql.unsafe(`drop schema if exists ${schema} cascade`);
      await sql.end({ timeout: 5 });
    },
  };
}
