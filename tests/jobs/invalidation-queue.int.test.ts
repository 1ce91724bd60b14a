import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createInvalidationQueue, type InvalidationQueue, type InvalidationQueueOptions } from '../../jobs/invalidation/invalidation-queue.ts';
import type { Invalidator } from '../../jobs/invalidation/invalidator.ts';
import { createJobsMetrics } from '../../jobs/metrics/jobs-metrics.ts';
import { JobError } from '../../jobs/retry.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { eventually } from './support/cdc-harness.ts';
import { createRecordingInvalidator } from './support/recording-invalidator.ts';
import { createScratchTelemetry, type ScratchTelemetry } from './support/scratch-stores.ts';

// The durable invalidation queue on the stack's telemetry PostgreSQL, in a scratch schema built
// from the real migrations. Core is replaced by recording or failing invalidators: what is checked
// here is what the table holds and who gets sent when; the call to core itself is covered by
// core-invalidation.int.test.ts.
const env = loadStackEnv();
// Owner refs (32 × [a-z2-7]), the only user ids core invalidates; named for readability, sorted as named.
const [ALICE, BOB, CAROL, DAVE, ERIN, FRANK] = ['a', 'b', 'c', 'd', 'e', 'f'].map((letter) => letter.repeat(32)) as [string, string, string, string, string, string];
let telemetry: ScratchTelemetry;
const queues: InvalidationQueue[] = [];

beforeAll(async () => {
  telemetry = await createScratchTelemetry(env, 'jobs_inval');
}, 60_000);

afterAll(async () => {
  for (const queue of queues) queue.stop();
  await telemetry?.drop();
});

beforeEach(async () => {
  for (const queue of queues.splice(0)) queue.stop();
  await telemetry.sql.unsafe(`truncate ${telemetry.schema}.pending_invalidations`);
});

interface Row {
  user_id: string;
  attempts: number;
  last_error: string | null;
  due_in_ms: number;
}

async function rows(): Promise<Row[]> {
  return telemetry.sql.unsafe<Row[]>(
    `select user_id, attempts, last_error, (extract(epoch from next_attempt_at - now()) * 1000)::float8 as due_in_ms
     from ${telemetry.schema}.pending_invalidations order by user_id`,
  );
}

function queue(invalidator: Invalidator, overrides: Partial<InvalidationQueueOptions> = {}): InvalidationQueue {
  const created = createInvalidationQueue({
    db: telemetry.sql,
    schema: telemetry.schema,
    invalidator,
    logger: createMemoryLogger('jobs-inval-test'),
    delayMs: 20,
    pollMs: 200,
    baseRetryMs: 300,
    maxRetryMs: 1_000,
    ...overrides,
  });
  queues.push(created);
  return created;
}

const coreDown = () => new JobError('core_unreachable', 'invalidate request to core failed: connect ECONNREFUSED', { retry: true });

describe('durable invalidation queue', () => {
  test('enqueued users are rows; a failing core bumps attempts; a restarted process sends them and empties the table', async () => {
    const metrics = createJobsMetrics();
    const down = createRecordingInvalidator({ failWith: coreDown });
    const first = queue(down, { metrics });
    await first.enqueue([CAROL, ALICE, BOB, ALICE, '-not-a-core-name', 'ivan.petrov']);
    await first.enqueue(new Set([BOB]));
    expect((await rows()).map((r) => [r.user_id, r.attempts, r.last_error])).toEqual([
      [ALICE, 0, null],
      [BOB, 0, null],
      [CAROL, 0, null],
    ]);
    expect(await first.pending()).toBe(3);
    expect(metrics.registry.render()).toContain('jobs_invalidation_pending_users 3');

    await first.flush();
    const failed = await rows();
    expect(failed.map((r) => [r.user_id, r.attempts])).toEqual([[ALICE, 1], [BOB, 1], [CAROL, 1]]);
    expect(failed.every((r) => r.last_error?.includes('ECONNREFUSED'))).toBe(true);
    // Backed off (300 ms for a first failure): a pass right now finds nothing due.
    expect(failed.every((r) => r.due_in_ms > 0 && r.due_in_ms <= 300)).toBe(true);
    await first.flush();
    expect((await rows()).map((r) => r.attempts)).toEqual([1, 1, 1]);
    // The process "dies" with the rows unsent.
    first.stop();

    const core = createRecordingInvalidator();
    const restarted = queue(core, { metrics });
    restarted.start();
    await eventually('the table emptied by the restarted process', async () => ((await rows()).length === 0 ? true : undefined), 10_000);
    expect(core.calls).toEqual([{ userIds: [ALICE, BOB, CAROL] }]);
    await eventually('the gauge back at 0', async () => (metrics.registry.render().includes('jobs_invalidation_pending_users 0') ? true : undefined), 5_000);
  }, 30_000);

  test('a request that arrives while its user is being sent is not lost', async () => {
    const calls: string[][] = [];
    let releaseFirst: () => void = () => {};
    const firstSendHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const slowCore: Invalidator = {
      async invalidate(target) {
        if ('all' in target) throw new Error('unexpected {all:true}');
        calls.push([...target.userIds]);
        if (calls.length === 1) await firstSendHeld;
        return { requests: 1, scope: target.userIds.length, skipped: [] };
      },
    };
    const drain = queue(slowCore);
    drain.start();
    await drain.enqueue([DAVE]);
    await eventually('the first send in flight', async () => (calls.length === 1 ? true : undefined), 5_000);
    // A newer change for dave (and one for erin) while core is still answering the first request.
    await drain.enqueue([DAVE, ERIN]);
    releaseFirst();
    await eventually('the table emptied', async () => ((await rows()).length === 0 ? true : undefined), 10_000);
    expect(calls[0]).toEqual([DAVE]);
    // dave's newer request survived the first send's delete and went out again.
    expect(calls.slice(1).flat().sort()).toEqual([DAVE, ERIN]);
  }, 30_000);

  test('two processes draining one table send every user at least once and leave it empty', async () => {
    // Distinct owner refs: 28 × 'u' and the index's digits as letters a–j.
    const users = Array.from({ length: 2_500 }, (_, i) => `${'u'.repeat(28)}${[...String(i).padStart(4, '0')].map((d) => 'abcdefghij'[Number(d)]).join('')}`);
    const sends = new Map<string, number>();
    const sentBy = { a: 0, b: 0 };
    const core = (name: keyof typeof sentBy): Invalidator => ({
      async invalidate(target) {
        if ('all' in target) throw new Error('unexpected {all:true}');
        await Bun.sleep(5);
        sentBy[name] += target.userIds.length;
        for (const user of target.userIds) sends.set(user, (sends.get(user) ?? 0) + 1);
        return { requests: 1, scope: target.userIds.length, skipped: [] };
      },
    });
    const recorder = queue(createRecordingInvalidator());
    for (let i = 0; i < users.length; i += 500) await recorder.enqueue(users.slice(i, i + 500));
    expect(await recorder.pending()).toBe(users.length);

    const a = queue(core('a'), { batchUsers: 100 });
    const b = queue(core('b'), { batchUsers: 100 });
    await Promise.all([a.flush(), b.flush()]);
    await eventually('the table emptied by both', async () => ((await rows()).length === 0 ? true : undefined), 20_000);
    expect(users.filter((user) => !sends.has(user))).toEqual([]);
    const doubles = [...sends.values()].filter((n) => n > 1).length;
    console.log(`invalidation queue: 2 drains, ${users.length} users (${sentBy.a} sent by one, ${sentBy.b} by the other), ${doubles} sent twice`);
    // The claims skip each other's locked rows and leases: no user goes out twice here.
    expect(doubles).toBe(0);
  }, 60_000);

  test('rows claimed by a process that died mid-send go out once its lease ran out', async () => {
    const hung: Invalidator = { invalidate: () => new Promise(() => {}) };
    const dying = queue(hung, { leaseMs: 500 });
    await dying.enqueue([FRANK]);
    void dying.flush();
    await eventually('frank claimed', async () => ((await rows())[0]?.due_in_ms ?? 0) > 0 ? true : undefined, 5_000);
    dying.stop();

    const core = createRecordingInvalidator();
    const next = queue(core);
    next.start();
    await eventually('frank sent by the next process', async () => ((await rows()).length === 0 ? true : undefined), 10_000);
    expect(core.calls).toEqual([{ userIds: [FRANK] }]);
  }, 30_000);
});
