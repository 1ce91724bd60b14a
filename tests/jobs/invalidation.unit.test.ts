import { describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createCoreInvalidator } from '../../jobs/invalidation/core-invalidator.ts';
import { nextPassDelayMs, retryDelayMs, usersToRecord } from '../../jobs/invalidation/invalidation-queue.ts';
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

// Owner refs: the only user ids core's invalidation takes.
const [A, B, C] = ['a', 'b', 'c'].map((letter) => letter.repeat(32)) as [string, string, string];

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
    expect(await batched.inv.invalidate({ userIds: [A, B, C, A] })).toEqual({ requests: 2, scope: 3, skipped: [] });
    expect(batched.calls.map((c) => c.body)).toEqual([{ user_ids: [A, B] }, { user_ids: [C] }]);
    const many = invalidator([], { allAboveUsers: 2 });
    expect(await many.inv.invalidate({ userIds: [A, B, C] })).toMatchObject({ requests: 1, scope: 'all' });
    expect(many.calls.map((c) => c.body)).toEqual([{ all: true }]);
  });

  test('values that are not owner refs are left out and counted, never logged; alone they send nothing', async () => {
    const logger = createMemoryLogger();
    const { calls, fetchImpl } = scriptedFetch([]);
    const inv = createCoreInvalidator({ coreUrl: 'http://core', tokens: tokens().source, timeoutMs: 1000, batchUsers: 2, allAboveUsers: 100, attempts: 1, baseDelayMs: 1, logger, fetch: fetchImpl });
    expect(await inv.invalidate({ userIds: [A, 'ivan.petrov', 'anna.smirnova'] })).toEqual({ requests: 1, scope: 1, skipped: ['ivan.petrov', 'anna.smirnova'] });
    expect(calls.map((c) => c.body)).toEqual([{ user_ids: [A] }]);
    expect(await inv.invalidate({ userIds: ['ivan.petrov'] })).toEqual({ requests: 0, scope: 0, skipped: ['ivan.petrov'] });
    expect(calls).toHaveLength(1);
    expect(logger.lines.filter((line) => line.event === 'invalidation.skipped_non_owner_refs').map((line) => line.count)).toEqual([2, 1]);
    expect(JSON.stringify(logger.lines)).not.toContain('petrov');
  });

  test('5xx and 429 are retried; a 401 refreshes the token once', async () => {
    const flaky = invalidator([503, 429, 200]);
    await flaky.inv.invalidate({ userIds: [A] });
    expect(flaky.calls).toHaveLength(3);
    const unauthorized = invalidator([401, 200]);
    await unauthorized.inv.invalidate({ userIds: [A] });
    expect(unauthorized.tokens.forgotten).toBe(1);
    expect(unauthorized.calls.map((c) => c.auth)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  test('403 and 422 are not retried; running out of attempts keeps the error retryable', async () => {
    for (const status of [403, 422]) {
      const refused = invalidator([status]);
      const error = await refused.inv.invalidate({ userIds: [A] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as JobError).retry).toBe(false);
      expect(refused.calls).toHaveLength(1);
    }
    const down = invalidator([500, 500, 500]);
    const error = await down.inv.invalidate({ userIds: [A] }).catch((e: unknown) => e);
    expect((error as JobError).retry).toBe(true);
    expect(down.calls).toHaveLength(3);
  });
});

// The queue's table work runs against PostgreSQL in invalidation-queue.int.test.ts; these are its
// pure decisions.
describe('invalidation queue: backoff, batching, pass timing', () => {
  const policy = { baseRetryMs: 1_000, maxRetryMs: 60_000 };

  test('backoff doubles per consecutive failure and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 6, 7, 8, 50, 5_000].map((failures) => retryDelayMs(failures, policy))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  test('a batch records each user once, sorted, and only owner refs (core answers 422 to anything else)', () => {
    const [ann, bob, zoe] = ['a', 'b', 'z'].map((letter) => letter.repeat(32)) as [string, string, string];
    const long = 'a'.repeat(33);
    expect(usersToRecord([zoe, ann, zoe, '-dash', '', long, 'ivan.petrov', bob.toUpperCase(), bob])).toEqual({ userIds: [ann, bob, zoe], skipped: ['-dash', '', long, 'ivan.petrov', bob.toUpperCase()] });
    expect(usersToRecord(new Set<string>())).toEqual({ userIds: [], skipped: [] });
  });

  test('the next pass: coalescing window after a success, backoff after failures, never later than the poll', () => {
    const timing = { ...policy, delayMs: 200, pollMs: 30_000 };
    // Nothing pending: poll.
    expect(nextPassDelayMs({ failures: 0, nextDueInMs: null }, timing)).toBe(30_000);
    // Rows due now or overdue: after the coalescing window.
    expect(nextPassDelayMs({ failures: 0, nextDueInMs: -5_000 }, timing)).toBe(200);
    // A row in backoff (or leased) for 7 s: then; one due in 2 hours: at the poll.
    expect(nextPassDelayMs({ failures: 0, nextDueInMs: 7_000 }, timing)).toBe(7_000);
    expect(nextPassDelayMs({ failures: 0, nextDueInMs: 7_200_000 }, timing)).toBe(30_000);
    // Core failing: due rows wait for the pass backoff, which may exceed the poll.
    expect(nextPassDelayMs({ failures: 3, nextDueInMs: 0 }, timing)).toBe(4_000);
    expect(nextPassDelayMs({ failures: 10, nextDueInMs: 0 }, timing)).toBe(60_000);
    expect(nextPassDelayMs({ failures: 1, nextDueInMs: 9_000 }, timing)).toBe(9_000);
  });
});
