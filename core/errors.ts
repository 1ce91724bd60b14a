import { ApiError, ErrorCode } from '../common/http/errors.ts';
import { DependencyUnavailable } from './dependency.ts';

/** How long a client should wait before retrying when a dependency is down. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** Core's error types at the HTTP edge: a missing dependency answers 503 naming it. */
export function mapCoreError(error: Error): Error {
  if (error instanceof DependencyUnavailable) {
    return new ApiError({
      code: ErrorCode.service_unavailable,
      message: `A dependency is unavailable: ${error.dependency}`,
      details: { dependency: error.dependency },
      retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
      cause: error,
    });
  }
  return error;
}
