import type { Logger } from '../../common/log.ts';
import type { ReportOwners } from '../reports/owners.ts';
import type { CrmStore } from './store.ts';

/**
 * Gives every CRM customer still without one their owner ref (CRM migration 003 cannot: the key is
 * not in the database). Rows from before the migration, or inserted by hand, get theirs here; until
 * then the ETL defers their hours. Idempotent: it only touches rows whose owner_ref is NULL.
 */
export async function fillMissingOwnerRefs(crm: CrmStore, owners: ReportOwners, batchSize = 500): Promise<number> {
  let filled = 0;
  for (;;) {
    const rows = await crm.sql<{ id: string; username: string }[]>`
      select id::text, username from crm.customers where owner_ref is null order by id limit ${batchSize}`;
    if (rows.length === 0) return filled;
    for (const row of rows) {
      const ref = await owners.refOf(row.username);
      const updated = await crm.sql`update crm.customers set owner_ref = ${ref} where id = ${row.id} and owner_ref is null`;
      filled += updated.count;
    }
    if (rows.length < batchSize) return filled;
  }
}

/** Run at start, off the start path: a CRM that is down only postpones it to the next start. */
export function fillMissingOwnerRefsInBackground(deps: { crm: CrmStore | undefined; owners: ReportOwners; logger: Logger }): void {
  if (!deps.crm) return;
  fillMissingOwnerRefs(deps.crm, deps.owners).then(
    (filled) => filled > 0 && deps.logger.info('crm.owner_refs_filled', { customers: filled }),
    (error: unknown) => deps.logger.warn('crm.owner_refs_failed', { error: error instanceof Error ? error.message : String(error) }),
  );
}
