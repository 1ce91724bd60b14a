import { afterAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { loadStackEnv } from '../../tools/kit/env.ts';
import { CDC_ROLE } from '../../stack/services/postgres.ts';

// Runs against the stack's two clusters (`node stack/cli.ts up postgres-crm postgres-telemetry`)
// as the application roles; every test works in its own transaction-scoped temp table.
const env = loadStackEnv();
interface Cluster {
  name: string;
  url: string;
  role: string;
  port: number;
}
const clusters: Cluster[] = [
  { name: 'crm', url: env.CRM_DATABASE_URL!, role: 'crm', port: 5435 },
  { name: 'telemetry', url: env.TELEMETRY_DATABASE_URL!, role: 'telemetry', port: 5436 },
];
const clients = new Map(clusters.map((c) => [c.name, postgres(c.url, { max: 2, onnotice: () => {}, connect_timeout: 5 })]));
function sqlFor(name: string): postgres.Sql {
  const sql = clients.get(name);
  if (!sql) throw new Error(`no client for cluster ${name}`);
  return sql;
}

afterAll(async () => {
  await Promise.all([...clients.values()].map((sql) => sql.end()));
});

describe.each(clusters)('postgres $name cluster (stack)', (cluster) => {
  test('connects over TCP as the application role to its own database', async () => {
    const [row] = await sqlFor(cluster.name)`select current_user as "user", current_database() as db, inet_server_port() as port`;
    expect(row).toEqual({ user: cluster.role, db: cluster.name, port: cluster.port });
  });

  test('runs DDL and DML as the application role', async () => {
    const rows = await sqlFor(cluster.name).begin(async (tx) => {
      await tx`create temp table stack_probe (id int primary key, username text not null, updated_at timestamptz not null default now()) on commit drop`;
      await tx`insert into stack_probe ${tx([
        { id: 1, username: 'ivanov' },
        { id: 2, username: "o'brien" },
      ])}`;
      await tx`update stack_probe set username = ${'smith'} where id = ${1}`;
      return tx<{ id: number; username: string }[]>`select id, username from stack_probe order by id`;
    });
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, username: 'smith' },
      { id: 2, username: "o'brien" },
    ]);
  });

  test('a wrong password is refused', async () => {
    const url = new URL(cluster.url);
    url.password = 'not-the-password';
    const intruder = postgres(url.toString(), { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      // postgres.js queries are lazy thenables that run on then(); Bun's expect().rejects does not call it.
      const attempt = (async () => intruder`select 1`)();
      await expect(attempt).rejects.toThrow(/password authentication failed/);
    } finally {
      await intruder.end();
    }
  });
});

describe('postgres crm cluster feeds Debezium', () => {
  test('has wal_level=logical; only the CDC role may replicate, not the owner crm', async () => {
    const sql = sqlFor('crm');
    const [wal] = await sql`show wal_level`;
    expect(wal?.wal_level).toBe('logical');
    const roles = await sql`select rolname, rolreplication, rolsuper from pg_roles where rolname in ('crm', ${CDC_ROLE}) order by rolname`;
    expect(roles.map((r) => ({ ...r }))).toEqual([
      { rolname: 'crm', rolreplication: false, rolsuper: false },
      { rolname: CDC_ROLE, rolreplication: true, rolsuper: false },
    ]);
    const [slots] = await sql`show max_replication_slots`;
    expect(Number(slots?.max_replication_slots)).toBeGreaterThanOrEqual(1);
  });

  test('the telemetry cluster is not set up for logical decoding', async () => {
    const [wal] = await sqlFor('telemetry')`show wal_level`;
    expect(wal?.wal_level).not.toBe('logical');
  });
});
