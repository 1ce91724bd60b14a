import type { Context } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { JobsEnv } from '../context.ts';
import { errorMessage } from '../retry.ts';
import type { JobName } from './run-history.ts';

type Skipped = { status: 'skipped'; reason: string };

/**
 * What both run triggers share: start the job (or run it, for quick ones), answer 503 when its
 * lock's database does not answer, 409 when another process holds the lock, and note the job and
 * the administrator in the request's wide event.
 */
export async function triggerJob<T extends { status: string }>(c: Context<JobsEnv>, job: JobName, start: () => Promise<T | Skipped>, details: Record<string, unknown> = {}): Promise<Exclude<T, Skipped>> {
  let started: T | Skipped;
  try {
    started = await start();
  } catch (error) {
    throw new ApiError({ code: ErrorCode.service_unavailable, message: `Could not start ${job}: ${errorMessage(error).slice(0, 200)}`, details: { dependency: 'telemetry_db' }, retryAfterSeconds: 5 });
  }
  // The caller's client, not their username: logs name nobody directly (issue 11); jobs holds no owner-ref key.
  addToWideEvent(c, { job, actorClient: c.get('principal')?.clientId, ...details });
  if (started.status === 'skipped') throw new ApiError({ code: ErrorCode.conflict, message: (started as Skipped).reason });
  return started as Exclude<T, Skipped>;
}
