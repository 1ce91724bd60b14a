import { isTransientNetworkError } from '../common/transient-errors.ts';

/**
 * Failures in jobs carry `retry`: true means "the same work may succeed later" (a dependency was
 * down, a timeout), so it is retried with backoff; false means the input itself is bad, so retrying
 * cannot help (a poison change event goes to the dead-letter topic, a bad request is reported).
 */
export class JobError extends Error {
  readonly retry: boolean;
  readonly code: string;
  constructor(code: string, message: string, options: { retry: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'JobError';
    this.code = code;
    this.retry = options.retry;
  }
}

/** Transient network failures (common/transient-errors.ts) are worth retrying; anything else is not, unless it says so. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof JobError) return error.retry;
  return isTransientNetworkError(error);
}

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before attempt n+1 is baseDelayMs * 2 ** (n - 1). */
  baseDelayMs: number;
  retryable?: (error: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.retryable ?? isRetryable;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= options.attempts || !retryable(error)) throw error;
      const delayMs = options.baseDelayMs * 2 ** (attempt - 1);
      options.onRetry?.(error, attempt, delayMs);
      await wait(delayMs);
    }
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
