import { QueryClient } from '@tanstack/react-query';
import { ApiFailure } from '../http/request.ts';

/** Attempts after the first that a read gets when the failure may pass by itself. */
const MAX_RETRIES = 2;
/** A Retry-After longer than this is not waited for: the page shows the failure and "Try again". */
const MAX_RETRY_AFTER_SECONDS = 30;

/**
 * Only failures that may pass by themselves are retried: no connection, a gateway or a busy
 * service (502/503/504/429). A 401 ends the session, a 403 is a lack of rights, a 404 is "no
 * data": asking again changes none of them.
 */
export function shouldRetryRead(failureCount: number, error: unknown): boolean {
  if (failureCount >= MAX_RETRIES || !(error instanceof ApiFailure)) return false;
  if (error.kind === 'network') return true;
  if (error.retryAfterSeconds !== undefined && error.retryAfterSeconds > MAX_RETRY_AFTER_SECONDS) return false;
  return [429, 502, 503, 504].includes(error.status);
}

/** Waits what the service asked for (Retry-After), else 1 s, 2 s, … */
export function retryDelayMs(failureCount: number, error: unknown): number {
  if (error instanceof ApiFailure && error.retryAfterSeconds !== undefined) return Math.max(1, error.retryAfterSeconds) * 1000;
  return 1000 * 2 ** failureCount;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetryRead,
        retryDelay: retryDelayMs,
        // Stale at once: a page shows what it read before straight away and asks again in the
        // background, so a page visited earlier is instant and the next click after a session
        // ended elsewhere still meets the BFF's 401 (and "session ended"), as before.
        staleTime: 0,
        refetchOnWindowFocus: false,
      },
      // A write is never repeated behind the person's back.
      mutations: { retry: false },
    },
  });
}
