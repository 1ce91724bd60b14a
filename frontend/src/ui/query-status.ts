import type { UseQueryResult } from '@tanstack/react-query';

export type QueriesStatus = { status: 'loading' } | { status: 'error'; error: unknown; retry: () => void } | { status: 'ready' };

/**
 * What a page made of several queries shows: a failure (the first, with a retry of the failed
 * ones), loading (also while "Try again" runs, so the button visibly does something), or ready.
 */
export function statusOf(queries: readonly UseQueryResult<unknown>[]): QueriesStatus {
  const failed = queries.filter((query) => query.isError);
  if (failed.length > 0 && !failed.some((query) => query.isFetching)) {
    return { status: 'error', error: failed[0]!.error, retry: () => failed.forEach((query) => void query.refetch()) };
  }
  if (failed.length > 0 || queries.some((query) => query.isPending)) return { status: 'loading' };
  return { status: 'ready' };
}
