import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { floodAndWatch, startServiceChild, type ServiceChild } from '../core/support/chunked-flood.ts';
import { createTestPerson, type TestPerson } from '../core/support/keycloak-people.ts';

/**
 * Issue 9, bounded inputs: jobs started from its Node and its Bun entry file (scheduler, CDC consumer and
 * invalidation off: only the HTTP face is under test); an administrator sends 1 GiB chunked to
 * each run trigger → 413 within a second, RSS growth under 32 MiB, /health/live answering
 * meanwhile. Before the fix the JSON validator read the whole body.
 */
const env = loadStackEnv();
let admin: TestPerson;

beforeAll(async () => {
  admin = await createTestPerson(env, ['administrator'], 'jobsflood');
}, 60_000);
afterAll(async () => {
  await admin?.remove();
});

const MIB = 1024 * 1024;

describe.each(['node', 'bun'])('jobs under %s: a 1 GiB chunked body is cut off at the limit', (runtime) => {
  let jobs: ServiceChild;
  beforeAll(async () => {
    jobs = await startServiceChild(`jobs/serve-${runtime}.ts`, { ...process.env, ...env, SCHEDULER_ENABLED: 'false', CDC_ENABLED: 'false', INVALIDATION_ENABLED: 'false' });
  }, 60_000);
  afterAll(async () => {
    await jobs?.stop();
  });
  for (const path of ['/runs/etl', '/runs/retention']) {
    test(`POST ${path}: 413 within 1 s, RSS +<32 MiB, /health/live answers meanwhile`, async () => {
      const { result, rssGrowthBytes, health, alive } = await floodAndWatch(jobs, path, { authorization: `Bearer ${await admin.accessToken()}` });
      console.log(`jobs (${runtime}) ${path}: status ${result.status} in ${result.msToAnswer?.toFixed(0)} ms, client sent ${(result.sentBytes / MIB).toFixed(1)} MiB, RSS +${(rssGrowthBytes / MIB).toFixed(1)} MiB, /health/live ${health.status} in ${health.ms.toFixed(0)} ms${result.status === 413 ? '' : `; ${JSON.stringify(result).slice(0, 400)}`}`);
      expect(result.status).toBe(413);
      expect(result.body).toContain('payload_too_large');
      expect(result.msToAnswer!).toBeLessThan(1000);
      expect(rssGrowthBytes).toBeLessThan(32 * MIB);
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(1000);
      expect(alive).toBe(true);
    }, 30_000);
  }
});
