import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { loadStackEnv } from '../../stack/lib/env.ts';

// Core's CRM login (CRM_CORE_DATABASE_URL, role crm_core) can do what the operator API does and
// nothing more. Every refused statement runs in a transaction that is rolled back anyway.
const env = loadStackEnv();
let core: postgres.Sql;

beforeAll(() => {
  core = postgres(env.CRM_CORE_DATABASE_URL!, { max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  await core?.end();
});

/** The SQLSTATE a statement fails with as crm_core, or 'ok'; nothing it did is kept. */
async function attempt(statement: string): Promise<string> {
  try {
    await core.begin(async (tx) => {
      await tx.unsafe(statement);
      throw Object.assign(new Error('rollback'), { code: 'ok' });
    });
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('crm.security: least privilege of core’s CRM role', () => {
  test('connects as crm_core, which owns nothing and holds no special attributes', async () => {
    const [me] = await core`select current_user as name, r.rolsuper, r.rolreplication, r.rolcreaterole, r.rolcreatedb
                            from pg_roles r where r.rolname = current_user`;
    expect(me).toEqual({ name: 'crm_core', rolsuper: false, rolreplication: false, rolcreaterole: false, rolcreatedb: false });
    const [owned] = await core`select count(*)::int as n from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'crm_core'`;
    expect(owned!.n).toBe(0);
  });

  test('reads and writes what the operator API needs', async () => {
    expect(await attempt('select id from crm.customers limit 1')).toBe('ok');
    expect(await attempt('select id from crm.prosthesis_models limit 1')).toBe('ok');
    expect(await attempt("update crm.orders set currency = currency where false")).toBe('ok');
    expect(await attempt("insert into crm.audit_log (actor, actor_region, action, entity, entity_id) values ('t', 'ru', 'test.check', 'order', gen_random_uuid())")).toBe('ok');
  });

  test('cannot delete, truncate, rewrite the audit log, read other tables or change the schema', async () => {
    const refused = {
      deleteCustomers: await attempt('delete from crm.customers where false'),
      truncateOrders: await attempt('truncate crm.orders'),
      writeModels: await attempt("update crm.prosthesis_models set name = name where false"),
      readAudit: await attempt('select * from crm.audit_log limit 1'),
      rewriteAudit: await attempt("update crm.audit_log set actor = 'x' where false"),
      deleteAudit: await attempt('delete from crm.audit_log where false'),
      rewriteHistory: await attempt('delete from crm.prosthesis_assignments where false'),
      migrations: await attempt('select * from public.schema_migrations limit 1'),
      createTable: await attempt('create table crm.intruder (id int)'),
      alterTable: await attempt('alter table crm.customers add column x int'),
    };
    expect(refused).toEqual({
      deleteCustomers: '42501',
      truncateOrders: '42501',
      writeModels: '42501',
      readAudit: '42501',
      rewriteAudit: '42501',
      deleteAudit: '42501',
      rewriteHistory: '42501',
      migrations: '42501',
      createTable: '42501',
      alterTable: '42501',
    });
  });
});
