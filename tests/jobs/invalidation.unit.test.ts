import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createCoreInvalidator } from '../../jobs/invalidation/core-invalidator.ts';
import { createInvalidationQueue } from '../../jobs/invalidation/invalidation-queue.ts';
import type { InvalidationTarget, Invalidator } from '../../jobs/invalidation/invalidator.ts';
import { JobError } from '../../jobs/retry.ts';

// Pure decision logic: which requests, when to retry, when to give up. The real call to core is in
// core-invalidation.int.test.ts.
function scriptedFetch(statuses: number[]) {
  const calls: Array<{ auth: string | null; body: unknown }> = [];
  const fetchImpl = (async (_url: string, init: RequestInit) => {
    calls.push({ auth: new Headers(init.headers).get('authorization'), body: JSON.parse(String(init.body)) });
    const status = statuses.shift() ?? 200;
    return new Response(status === 200 ? '{}' : '{"error":{}}', { status });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

function tokens() {
  let n = 0;
  const state = { forgotten: 0 };
  return { state, source: { token: async () => `token-${++n}`, forget: () => void state.forgotten++ } };
}

function invalidator(statuses: number[], overrides: { allAboveUsers?: number } = {}) {
  const { calls, fetchImpl } = scriptedFetch(statuses);
  const t = tokens();
  const inv = createCoreInvalidator({
    coreUrl: 'http://core',
    tokens: t.source,
    timeoutMs: 1000,
    batchUsers: 2,
    allAboveUsers: overrides.allAboveUsers ?? 100,
    attempts: 3,
    baseDelayMs: 1,
    logger: createMemoryLogger(),
    fetch: fetchImpl,
  });
  return { inv, calls, tokens: t.state };
}

describe('core invalidator', () => {
  test('batches users, and asks for everything above the threshold', async () => {
    const batched = invalidator([]);
    expect(await batched.inv.invalidate({ userIds: ['a', 'b', 'c', 'a'] })).toEqual({ requests: 2, scope: 3, skipped: [] });
    expect(batched.calls.map((c) => c.body)).toEqual([{ user_ids: ['a', 'b'] }, { user_ids: ['c'] }]);
    const many = invalidator([], { allAboveUsers: 2 });
    expect(await many.inv.invalidate({ userIds: ['a', 'b', 'c'] })).toMatchObject({ requests: 1, scope: 'all' });
    expect(many.calls.map((c) => c.body)).toEqual([{ all: true }]);
  });

  test('5xx and 429 are retried; a 401 refreshes the token once', async () => {
    const flaky = invalidator([503, 429, 200]);
    await flaky.inv.invalidate({ userIds: ['a'] });
    expect(flaky.calls).toHaveLength(3);
    const unauthorized = invalidator([401, 200]);
    await unauthorized.inv.invalidate({ userIds: ['a'] });
    expect(unauthorized.tokens.forgotten).toBe(1);
    expect(unauthorized.calls.map((c) => c.auth)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  test('403 and 422 are not retried; running out of attempts keeps the error retryable', async () => {
    for (const status of [403, 422]) {
      const refused = invalidator([status]);
      const error = await refused.inv.invalidate({ userIds: ['a'] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as JobError).retry).toBe(false);
      expect(refused.calls).toHaveLength(1);
    }
    const down = invalidator([500, 500, 500]);
    const error = await down.inv.invalidate({ userIds: ['a'] }).catch((e: unknown) => e);
    expect((error as JobError).retry).toBe(true);
    expect(down.calls).toHaveLength(3);
  });
});

describe('invalidation queue', () => {
  test('coalesces users and retries with backoff until core answers', async () => {
    const seen: InvalidationTarget[] = [];
    let failuresLeft = 2;
    const target: Invalidator = {
      async invalidate(t) {
        if (failuresLeft-- > 0) throw new JobError('core_unreachable', 'down', { retry: true });
        seen.push(t);
        return { requests: 1, scope: 1, skipped: [] };
      },
    };
    const queue = createInvalidationQueue({ invalidator: target, logger: createMemoryLogger(), delayMs: 5, baseRetryMs: 5, maxRetryMs: 20 });
    queue.enqueue(['a', 'b']);
    queue.enqueue(['b', 'c']);
    for (let i = 0; i < 100 && queue.pending() > 0; i++) await Bun.sleep(5);
    expect(queue.pending()).toBe(0);
    expect(seen).toEqual([{ userIds: ['a', 'b', 'c'] }]);
    queue.stop();
  });
});
