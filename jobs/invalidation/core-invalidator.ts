import { isOwnerRef } from '../../common/identity/owner-ref.ts';
import type { Logger } from '../../common/log.ts';
import { noJobsMetrics, type JobsMetrics } from '../metrics/jobs-metrics.ts';
import { JobError, withRetry } from '../retry.ts';
import type { TokenSource } from './client-credentials.ts';
import type { InvalidationResult, InvalidationTarget, Invalidator } from './invalidator.ts';

export interface CoreInvalidatorOptions {
  coreUrl: string;
  tokens: TokenSource;
  timeoutMs: number;
  /** Users per request (core accepts up to 10 000). */
  batchUsers: number;
  /** More affected users than this → one `{all:true}` instead. */
  allAboveUsers: number;
  attempts?: number;
  baseDelayMs?: number;
  logger: Logger;
  /** Absent: metrics off (noJobsMetrics discards every figure). */
  metrics?: JobsMetrics;
  fetch?: typeof fetch;
}

/**
 * POST ${CORE_URL}/api/reports/invalidate with the jobs service account's token; core deletes the
 * users' S3 report objects and purges the CDN edge. Network failures, 5xx and 429 are retried with
 * backoff; a 401 drops the cached token and retries once with a fresh one.
 */
export function createCoreInvalidator(options: CoreInvalidatorOptions): Invalidator {
  const send = options.fetch ?? fetch;
  const metrics = options.metrics ?? noJobsMetrics;
  const url = `${options.coreUrl}/api/reports/invalidate`;

  async function post(body: { user_ids: string[] } | { all: true }): Promise<void> {
    let refreshedToken = false;
    await withRetry(
      async () => {
        const token = await options.tokens.token();
        let response: Response;
        try {
          response = await send(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(options.timeoutMs),
          });
        } catch (error) {
          throw new JobError('core_unreachable', `invalidate request to core failed: ${error instanceof Error ? error.message : String(error)}`, { retry: true, cause: error });
        }
        const text = await response.text().catch(() => '');
        if (response.ok) return;
        if (response.status === 401 && !refreshedToken) {
          refreshedToken = true;
          options.tokens.forget();
          throw new JobError('core_unauthorized', 'core refused the token (401); retrying with a fresh one', { retry: true });
        }
        const retry = response.status >= 500 || response.status === 429;
        throw new JobError('core_refused', `core answered ${response.status} to invalidate: ${text.slice(0, 300)}`, { retry });
      },
      {
        attempts: options.attempts ?? 4,
        baseDelayMs: options.baseDelayMs ?? 500,
        onRetry: (error, attempt, delayMs) =>
          options.logger.debug('invalidation.retry', { attempt, delayMs, error: error instanceof Error ? error.message : String(error) }),
      },
    );
  }

  return {
    async invalidate(target: InvalidationTarget): Promise<InvalidationResult> {
      try {
        if ('all' in target) {
          await post({ all: true });
          metrics.invalidations.inc({ outcome: 'ok' });
          return { requests: 1, scope: 'all', skipped: [] };
        }
        const unique = [...new Set(target.userIds)];
        // Core takes owner refs only (422 otherwise, which would fail the whole batch for good);
        // the count is logged, never the values, which may be usernames.
        const sendable = unique.filter((user) => isOwnerRef(user));
        const skipped = unique.filter((user) => !isOwnerRef(user));
        if (skipped.length > 0) options.logger.warn('invalidation.skipped_non_owner_refs', { count: skipped.length });
        if (sendable.length === 0) return { requests: 0, scope: 0, skipped };
        if (sendable.length > options.allAboveUsers) {
          await post({ all: true });
          metrics.invalidations.inc({ outcome: 'ok' });
          return { requests: 1, scope: 'all', skipped };
        }
        let requests = 0;
        for (let i = 0; i < sendable.length; i += options.batchUsers) {
          await post({ user_ids: sendable.slice(i, i + options.batchUsers) });
          requests++;
          metrics.invalidations.inc({ outcome: 'ok' });
        }
        return { requests, scope: sendable.length, skipped };
      } catch (error) {
        metrics.invalidations.inc({ outcome: 'failed' });
        throw error;
      }
    },
  };
}
