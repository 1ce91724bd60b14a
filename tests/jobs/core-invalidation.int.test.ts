import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createMemoryLogger } from '../../common/log.ts';
import { createClientCredentialsTokenSource } from '../../jobs/invalidation/client-credentials.ts';
import { createCoreInvalidator } from '../../jobs/invalidation/core-invalidator.ts';
import { JobError } from '../../jobs/retry.ts';
import { createCoreHarness, type CoreHarness } from '../core/support/harness.ts';

// The jobs → core invalidation path for real: a client-credentials token of `reports-jobs` from
// Keycloak, core's POST /api/reports/invalidate (core built in-process over the real S3), and the
// cached objects really gone afterwards. Each test writes its own users' objects.
let core: CoreHarness;

beforeAll(() => {
  core = createCoreHarness();
});

afterAll(async () => {
  await core?.close();
});

function invalidator(options: { secret?: string } = {}) {
  const { env } = core;
  return createCoreInvalidator({
    coreUrl: 'http://core.in-process',
    tokens: createClientCredentialsTokenSource({
      tokenUrl: `${env.KEYCLOAK_URL}/realms/${env.KEYCLOAK_REALM}/protocol/openid-connect/token`,
      clientId: 'reports-jobs',
      clientSecret: options.secret ?? env.JOBS_CLIENT_SECRET!,
      timeoutMs: 10_000,
      now: Date.now,
    }),
    timeoutMs: 10_000,
    batchUsers: 2,
    allAboveUsers: 1_000,
    attempts: 2,
    baseDelayMs: 50,
    logger: createMemoryLogger('jobs'),
    // Core's own app answers the requests (no listening port needed); everything behind it is real.
    fetch: ((input: string | URL | Request, init?: RequestInit) => core.app.request(String(input), init)) as typeof fetch,
  });
}

describe('invalidation through core', () => {
  test("a user's cached report objects are deleted; other users' stay", async () => {
    const tag = randomUUID().slice(0, 8);
    // Owners are named by their owner refs, the only key core's invalidation takes.
    const [a, b, c, bystander] = await Promise.all(['a', 'b', 'c', 'keep'].map((name) => core.deps.owners.refOf(`inv-${tag}-${name}`)));
    const users = [a!, b!, c!];
    for (const user of [...users, bystander]) {
      await core.deps.reportStore.write(`${user}/list/reports.json`, '{"cached":true}');
      await core.deps.reportStore.write(`${user}/daily/2026-11-24/report.json`, '{"cached":true}');
    }
    // Three users with batches of two: two requests, both authenticated with one cached token.
    const result = await invalidator().invalidate({ userIds: [...users, users[0]!, '.hidden', '../x', 'ivan.petrov'] });
    expect(result).toEqual({ requests: 2, scope: 3, skipped: ['.hidden', '../x', 'ivan.petrov'] });
    for (const user of users) expect(await core.deps.reportStore.exists(`${user}/list/reports.json`)).toBe(false);
    expect(await core.deps.reportStore.exists(`${bystander}/list/reports.json`)).toBe(true);
    await core.deps.reportStore.deletePrefix(`${bystander!}/`);
  }, 60_000);

  test('a wrong client secret is a non-retryable error naming the refusal', async () => {
    const error = await invalidator({ secret: 'x'.repeat(32) })
      .invalidate({ userIds: ['s'.repeat(32)] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).retry).toBe(false);
    expect((error as JobError).message).toContain('refused the client-credentials grant');
  }, 30_000);
});
