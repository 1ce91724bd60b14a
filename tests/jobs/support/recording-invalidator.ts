import type { InvalidationTarget, Invalidator } from '../../../jobs/invalidation/invalidator.ts';

/**
 * Records what the jobs would have asked core to invalidate. Stands in for core only where a test
 * checks the ETL or consumer's own decision; the call to core itself is covered by
 * core-invalidation.int.test.ts against the running core and Keycloak.
 */
export function createRecordingInvalidator(options: { failWith?: () => Error | undefined } = {}): Invalidator & { calls: InvalidationTarget[]; users(): Set<string> } {
  const calls: InvalidationTarget[] = [];
  return {
    calls,
    users: () => new Set(calls.flatMap((call) => ('all' in call ? ['*'] : [...call.userIds]))),
    async invalidate(target) {
      const failure = options.failWith?.();
      if (failure) throw failure;
      calls.push('all' in target ? target : { userIds: [...target.userIds] });
      return { requests: 1, scope: 'all' in target ? 'all' : target.userIds.length, skipped: [] };
    },
  };
}
