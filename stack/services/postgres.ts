import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { StackEnv } from '../lib/env.ts';
import { ensureDebPackages } from '../lib/apt.ts';
import { log } from '../lib/log.ts';
import { paths } from '../lib/paths.ts';
import { forgetPid, recordPid, run, runningPid } from '../lib/proc.ts';
import { runAs, systemUser } from '../lib/user.ts';
import { waitUntilReady } from '../lib/wait.ts';
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
}

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
    const attributes = spec.name === 'postgres-crm' ? 'LOGIN REPLICATION' : 'LOGIN';
    // Identifiers come from this file, never from input; the password travels as a quoted literal.
    await admin.unsafe(`${role ? 'ALTER' : 'CREATE'} ROLE ${spec.role} ${attributes} PASSWORD ${quoteLiteral(password)}`);
    const [db] = await admin`select 1 from pg_database where datname = ${spec.database}`;
    if (!db) await admin.unsafe(`CREATE DATABASE ${spec.database} OWNER ${spec.role}`);
  } finally {
    await admin.end();
  }
}

export const services: StackService[] = [
  createCluster({
    name: 'postgres-crm',
    port: 5435,
    database: 'crm',
    role: 'crm',
    passwordVar: 'CRM_DB_PASSWORD',
    settings: { wal_level: 'logical', max_replication_slots: '10', max_wal_senders: '10' },
  }),
  createCluster({
    name: 'postgres-telemetry',
    port: 5436,
    database: 'telemetry',
    role: 'telemetry',
    passwordVar: 'TELEMETRY_DB_PASSWORD',
    settings: { max_connections: '200', shared_buffers: "'256MB'" },
  }),
];
