import { isOwnerRef } from '../../common/identity/owner-ref.ts';
import type { Logger } from '../../common/log.ts';
import type { CdnPurger } from './cdn-purge.ts';
import type { ReportObjectStore } from './s3-store.ts';

/**
 * Report objects cached before owners became pseudonymous (issue 11) sit under the username
 * (`ivan.petrov/summary/summary.json`) and would keep it in S3 and at the edge for good: nothing
 * invalidates them any more, since every invalidation names owner refs. Core drops them once at
 * start. A folder counts as such a leftover only when it is not an owner ref and the document in
 * it names that very folder as its user_id (what core wrote then), so objects others put in the
 * bucket (the edge's tests do) are left alone. Afterwards only owner-ref folders remain, so a
 * later start costs one paged listing of the bucket's first level (1 LIST request per 1,000 owners,
 * in the background; a "sweep done" marker was not used, since during a rolling upgrade a replica
 * still on the old version may write a username folder after the marker).
 */
export async function dropLegacyReportObjects(deps: { store: ReportObjectStore; cdnPurger: CdnPurger; logger: Logger }): Promise<string[]> {
  const legacy: string[] = [];
  // Page by page: a bucket of a million owners' folders is walked holding one listing page, and
  // only the (few, one-time) legacy folders are kept.
  for await (const page of deps.store.topLevelSegmentPages()) {
    for (const segment of page) {
      if (isOwnerRef(segment)) continue;
      const key = await deps.store.anyKeyUnder(`${segment}/`);
      if (key === undefined || !/^[^/]+\/(list|summary|daily)\//.test(key)) continue;
      const body = await deps.store.read(key);
      let owner: unknown;
      try {
        owner = body === null ? undefined : (JSON.parse(body) as { user_id?: unknown }).user_id;
      } catch {
        continue;
      }
      if (owner === segment) legacy.push(segment);
    }
  }
  if (legacy.length === 0) return [];
  let deleted = 0;
  for (const segment of legacy) deleted += (await deps.store.deletePrefix(`${segment}/`)).length;
  // One purge of everything rather than the folder list: the list names the very usernames the
  // sweep removes (the edge would log them), and past 1,000 prefixes or 64 KiB the edge refuses it.
  // Run once per bucket, so refetching every cached report once is the cheaper price.
  const purge = await deps.cdnPurger.purge({ all: true });
  // Counts only: the folder names are the usernames this sweep exists to get rid of.
  deps.logger.info('reports.legacy_objects_dropped', { owners: legacy.length, deletedObjects: deleted, purgeOk: purge.ok });
  return legacy;
}

/** The sweep off the start path: S3 down at start only postpones it to the next start. */
export function sweepLegacyReportObjectsInBackground(deps: { reportStore: ReportObjectStore; cdnPurger: CdnPurger; logger: Logger }): void {
  dropLegacyReportObjects({ store: deps.reportStore, cdnPurger: deps.cdnPurger, logger: deps.logger }).catch((error: unknown) =>
    deps.logger.warn('reports.legacy_objects_failed', { error: error instanceof Error ? error.message : String(error) }),
  );
}
