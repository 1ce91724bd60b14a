/** Whose cached report objects (S3 + CDN edge) to drop after their data changed. */
export type InvalidationTarget = { userIds: readonly string[] } | { all: true };

export interface InvalidationResult {
  /** Requests sent to core (0 when disabled or nothing to do). */
  requests: number;
  /** Users dropped (or 'all'). */
  scope: number | 'all';
  /** Usernames core could never hold reports for (outside its key alphabet), not sent. */
  skipped: string[];
}

/** Throws a JobError (with `retry`) when core could not be told. */
export interface Invalidator {
  invalidate(target: InvalidationTarget): Promise<InvalidationResult>;
}

/** INVALIDATION_ENABLED=false: loads still work, caches expire on their own. */
export const disabledInvalidator: Invalidator = {
  async invalidate() {
    return { requests: 0, scope: 0, skipped: [] };
  },
};
