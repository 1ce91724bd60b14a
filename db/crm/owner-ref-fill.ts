import type postgres from 'postgres';

/** Customer ids listed per fill result when refs collide (the count is always exact). */
const LISTED_CONFLICTS = 20;

export interface OwnerRefFill {
  /** Customers given their ref. */
  filled: number;
  /** Customers left without one: their ref is another customer's already. */
  conflicts: number;
  /** The first of those, by customer id (never the usernames). */
  conflictIds: string[];
}

const isUniqueViolation = (error: unknown) => (error as { code?: unknown } | null)?.code === '23505';

/**
 * Gives every CRM customer still without one their owner ref (CRM migration 003 cannot: the key is
 * not in the database). Rows from before the migration, or inserted by hand, get theirs here; until
 * then the ETL defers their hours. Core runs it at start (core/crm/owner-refs.ts), the demo generator after loading; whichever
 * comes first wins, the other finds nothing to do. Idempotent: it only touches rows whose owner_ref
 * is NULL.
 *
 * Reads `batchSize` customers at a time, walking ids upwards, so a large CRM is never read whole and
 * a row that cannot be filled is not read again. Usernames differing only in case share one ref
 * (refs are case-blind, as the directory's uids), so the second such customer hits the unique
 * constraint: that row is counted and left NULL, and every later customer still gets theirs.
 */
export async function fillOwnerRefs(sql: postgres.Sql, refOf: (username: string) => Promise<string>, batchSize = 500): Promise<OwnerRefFill> {
  const result: OwnerRefFill = { filled: 0, conflicts: 0, conflictIds: [] };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await sql<{ id: string; username: string }[]>`
      select id::text, username from crm.customers where owner_ref is null and id > ${after}::uuid order by id limit ${batchSize}`;
    for (const row of rows) {
      try {
        const updated = await sql`update crm.customers set owner_ref = ${await refOf(row.username)} where id = ${row.id}::uuid and owner_ref is null`;
        result.filled += updated.count;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        result.conflicts++;
        if (result.conflictIds.length < LISTED_CONFLICTS) result.conflictIds.push(row.id);
      }
    }
    if (rows.length < batchSize) return result;
    after = rows[rows.length - 1]!.id;
  }
}
