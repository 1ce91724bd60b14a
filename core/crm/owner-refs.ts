import { fillOwnerRefs, type OwnerRefFill } from '../../db/crm/owner-ref-fill.ts';
import type { Logger } from '../../common/log.ts';
import type { ReportOwners } from '../reports/owners.ts';
import type { CrmStore } from './store.ts';

/** fillOwnerRefs on core's CRM connection and key. */
export function fillMissingOwnerRefs(crm: CrmStore, owners: ReportOwners, batchSize = 500): Promise<OwnerRefFill> {
  return fillOwnerRefs(crm.sql, (username) => owners.refOf(username), batchSize);
}

/** Run at start, off the start path: a CRM that is down only postpones it to the next start. */
export function fillMissingOwnerRefsInBackground(deps: { crm: CrmStore | undefined; owners: ReportOwners; logger: Logger }): void {
  if (!deps.crm) return;
  fillMissingOwnerRefs(deps.crm, deps.owners).then(
    (fill) => {
      if (fill.filled > 0) deps.logger.info('crm.owner_refs_filled', { customers: fill.filled });
      // Ids only: the usernames are what the refs exist to keep out of logs.
      if (fill.conflicts > 0) deps.logger.warn('crm.owner_refs_conflict', { customers: fill.conflicts, customerIds: fill.conflictIds });
    },
    (error: unknown) => deps.logger.warn('crm.owner_refs_failed', { error: error instanceof Error ? error.message : String(error) }),
  );
}
