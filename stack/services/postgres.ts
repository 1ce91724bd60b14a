import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../../tools/kit/apt.ts';
import { log } from '../../tools/kit/log.ts';
import { paths } from '../../tools/kit/paths.ts';
import { forgetPid, recordPid, run, runningPid } from '../../tools/kit/proc.ts';
import { runAs, systemUser } from '../../tools/kit/user.ts';
import { waitUntilReady } from '../../tools/kit/wait.ts';
import type { StackService } from './service.ts';

const PG_VERSION = '15';
const BIN = `/usr/lib/postgresql/${PG_VERSION}/bin`;
const OS_USER = 'postgres';

interface ClusterSpec {
  name: string;
  port: number;
  database: string;
  role: string;
  passwordVar: string;
  /** Extra server settings; the CRM cluster feeds Debezium through logical decoding. */
  settings: Record<string, string>;
  /** Role-level setup that must also reach a cluster that is already running (so not in start()). */
  provision?: (env: StackEnv) => Promise<void>;
}

/**
 * The role Debezium connects as (stack/config/debezium/crm-connector.json): REPLICATION, CONNECT on
 * the CRM database, USAGE on schema crm and SELECT on exactly the published tables. It owns nothing,
 * so it can neither write CRM rows nor change the publication (created by the owner's migration).
 */
export const CDC_ROLE = 'crm_cdc';
const CDC_PASSWORD_VAR = 'CRM_CDC_DB_PASSWORD';
const CRM_PUBLICATION = 'crm_publication';

function ownedDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const { uid, gid } = systemUser(OS_USER, 'postgresql');
    chownSync(dir, uid, gid);
  }
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function createCluster(spec: ClusterSpec): StackService {
  const dataDir = paths.data(spec.name);
  const isReady = async () => {
    const { code } = await run(`${BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(spec.port), '-t', '2'], { allowFailure: true });
    return code === 0;
  };
  return {
    name: spec.name,
    ports: [spec.port],
    version: `PostgreSQL ${PG_VERSION} (Debian)`,
    async install() {
      await ensureDebPackages(spec.name, [`postgresql-${PG_VERSION}`, `postgresql-client-${PG_VERSION}`]);
    },
    isReady,
    async start(env) {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        log.step(spec.name, `initdb ${dataDir}`);
        ownedDir(join(dataDir, '..'));
        ownedDir(dataDir);
        await runAs(OS_USER, `${BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
        const settings = {
          listen_addresses: "'127.0.0.1'",
          port: String(spec.port),
          unix_socket_directories: quoteLiteral(dataDir),
          ...spec.settings,
        };
        const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
        writeFileSync(join(dataDir, 'postgresql.auto.conf'), `# written by stack/services/postgres.ts\n${conf}\n`);
        writeFileSync(
          join(dataDir, 'pg_hba.conf'),
          ['local all all trust', 'host all all 127.0.0.1/32 scram-sha-256', 'host replication all 127.0.0.1/32 scram-sha-256', ''].join('\n'),
        );
      }
      ownedDir(paths.logs);
      await runAs(OS_USER, `${BIN}/pg_ctl`, ['-D', dataDir, '-l', paths.log(spec.name), '-w', '-t', '60', 'start']);
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      recordPid(spec.name, pid);
      await waitUntilReady(spec.name, isReady, { timeoutMs: 60_000 });
      await ensureRoleAndDatabase(spec, env);
    },
    async provision(env) {
      await spec.provision?.(env);
    },
    async stop() {
      if (!runningPid(spec.name)) return;
      await runAs(OS_USER, `${BIN}/pg_ctl`, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { allowFailure: true });
      forgetPid(spec.name);
    },
  };
}

/** The application role and database; the role's password comes from the stack environment. */
async function ensureRoleAndDatabase(spec: ClusterSpec, env: StackEnv): Promise<void> {
  const password = env[spec.passwordVar];
  if (!password) throw new Error(`${spec.passwordVar} is not set`);
  const admin = postgres({ host: paths.data(spec.name), port: spec.port, user: 'postgres', database: 'postgres', onnotice: () => {} });
  try {
    const [role] = await admin`select 1 from pg_roles where rolname = ${spec.role}`;
    // The owner writes CRM data; replication is only for the CDC role (see CDC_ROLE).
    const attributes = 'LOGIN NOREPLICATION';
    // Identifiers come from this file, never from input; the password travels as a quoted literal.
    await admin.unsafe(`${role ? 'ALTER' : 'CREATE'} ROLE ${spec.role} ${attributes} PASSWORD ${quoteLiteral(password)}`);
    const [db] = await admin`select 1 from pg_database where datname = ${spec.database}`;
    if (!db) await admin.unsafe(`CREATE DATABASE ${spec.database} OWNER ${spec.role}`);
  } finally {
    await admin.end();
  }
}

/**
 * A superuser connection to a cluster: the native one over its socket as `postgres`; otherwise
 * (compose.yaml's containers, where the image makes the application role the superuser) the URL.
 */
function superuserConnection(spec: ClusterSpec, url: string | undefined, database: string): postgres.Sql {
  if (runningPid(spec.name) !== undefined) {
    return postgres({ host: paths.data(spec.name), port: spec.port, user: 'postgres', database, onnotice: () => {} });
  }
  if (!url) throw new Error(`${spec.name}: not running natively and no database URL to provision through`);
  return postgres(url, { max: 1, database, onnotice: () => {} });
}

/**
 * Creates or updates the CDC role and grants it SELECT on the tables of the publication: whatever
 * the CRM migrations publish is readable by Debezium, nothing else. Runs after the migrations (they
 * create the publication), on every `up` and `provision`; an unchanged state is left as it is.
 */
async function provisionCdcRole(spec: ClusterSpec, env: StackEnv): Promise<void> {
  await provisionLoginRole(spec, env, CDC_ROLE, CDC_PASSWORD_VAR, 'REPLICATION', async (sql) => {
    // A native cluster made before the CDC role existed gave the owner REPLICATION; take it back.
    if (runningPid(spec.name) !== undefined) await sql.unsafe(`ALTER ROLE ${spec.role} NOREPLICATION`);
    const tables = await sql<{ name: string }[]>`
      select quote_ident(schemaname) || '.' || quote_ident(tablename) as name
      from pg_publication_tables where pubname = ${CRM_PUBLICATION} order by 1`;
    if (tables.length === 0) throw new Error(`publication ${CRM_PUBLICATION} is missing or empty; the CRM migrations create it`);
    const schemas = [...new Set(tables.map((t) => t.name.split('.')[0]!))];
    return [
      ...schemas.map((schema) => `GRANT USAGE ON SCHEMA ${schema}`),
      `GRANT SELECT ON TABLE ${tables.map((t) => t.name).join(', ')}`,
    ];
  });
}

/**
 * Creates the login role `role` with the password in `env[passwordVar]`, or brings an existing one
 * to that password and these attributes (never superuser, createdb, createrole or bypassrls), then
 * grants it CONNECT on the cluster's database and `grants(sql)` (each statement without its
 * `TO role`) in one transaction.
 */
async function provisionLoginRole(
  spec: ClusterSpec,
  env: StackEnv,
  role: string,
  passwordVar: string,
  replication: 'REPLICATION' | 'NOREPLICATION',
  grants: (sql: postgres.Sql) => Promise<string[]>,
): Promise<void> {
  const password = env[passwordVar];
  if (!password) throw new Error(`${passwordVar} is not set`);
  const sql = superuserConnection(spec, env.CRM_DATABASE_URL, spec.database);
  try {
    const [existing] = await sql`select 1 from pg_roles where rolname = ${role}`;
    await sql.unsafe(
      `${existing ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN ${replication} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`,
    );
    const statements = await grants(sql);
    await sql.begin(async (tx) => {
      await tx.unsafe(`GRANT CONNECT ON DATABASE ${spec.database} TO ${role}`);
      for (const grant of statements) await tx.unsafe(`${grant} TO ${role}`);
    });
  } finally {
    await sql.end();
  }
}

/**
 * The role core's CRM operator API connects as (core/crm, CRM_CORE_DATABASE_URL): it reads and
 * writes customers, prostheses and orders, reads the model catalogue, appends to the audit log and
 * the assignment history (written by a trigger in the caller's name) — and nothing else: no DELETE,
 * no TRUNCATE, no DDL, no rewriting of the audit log. Made after the migrations (the tables must exist).
 */
export const CORE_CRM_ROLE = 'crm_core';
const CORE_CRM_PASSWORD_VAR = 'CRM_CORE_DB_PASSWORD';
const CORE_CRM_GRANTS = [
  'GRANT SELECT, INSERT, UPDATE ON TABLE crm.customers, crm.prostheses, crm.orders',
  'GRANT SELECT ON TABLE crm.prosthesis_models',
  'GRANT INSERT ON TABLE crm.audit_log, crm.prosthesis_assignments',
];

async function provisionCoreCrmRole(spec: ClusterSpec, env: StackEnv): Promise<void> {
  await provisionLoginRole(spec, env, CORE_CRM_ROLE, CORE_CRM_PASSWORD_VAR, 'NOREPLICATION', async () => [
    'GRANT USAGE ON SCHEMA crm',
    ...CORE_CRM_GRANTS,
  ]);
}

const crmCluster: ClusterSpec = {
  name: 'postgres-crm',
  port: 5435,
  database: 'crm',
  role: 'crm',
  passwordVar: 'CRM_DB_PASSWORD',
  settings: { wal_level: 'logical', max_replication_slots: '10', max_wal_senders: '10' },
  provision: async (env) => {
    await provisionCdcRole(crmCluster, env);
    await provisionCoreCrmRole(crmCluster, env);
  },
};

export const services: StackService[] = [
  createCluster(crmCluster),
  createCluster({
    name: 'postgres-telemetry',
    port: 5436,
    database: 'telemetry',
    role: 'telemetry',
    passwordVar: 'TELEMETRY_DB_PASSWORD',
    settings: { max_connections: '200', shared_buffers: "'256MB'" },
  }),
];
