import { afterAll, describe, expect, test } from 'bun:test';
import { createMemoryLogger } from '../../common/log.ts';
import { createApp } from '../../jobs/app.ts';
import { loadJobsConfig } from '../../jobs/config.ts';
import { buildJobsDeps, type JobsDeps } from '../../jobs/deps.ts';
import { CDC_HEALTH_REUSE_MS } from '../../jobs/health/cdc.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { createRecordingInvalidator } from './support/recording-invalidator.ts';

/**
 * Issue 9: /health/cdc answers from a result at most a second old, so a flood of health requests
 * reads the group's lag from Kafka (the real broker) at most once a second. The clock is the
 * app's own (deps.now), stepped by the test, so "a second" is exact rather than a race.
 */
const opened: JobsDeps[] = [];
afterAll(async () => {
  for (const deps of opened) await deps.close();
});

function countingJobs() {
  let clock = 1_700_000_000_000;
  const base = buildJobsDeps(loadJobsConfig({ ...loadStackEnv(), CDC_ENABLED: 'true', LOG_LEVEL: 'debug' }), {
    logger: createMemoryLogger('jobs'),
    invalidator: createRecordingInvalidator(),
    now: () => clock,
  });
  opened.push(base);
  let lagReads = 0;
  const deps: JobsDeps = {
    ...base,
    groupLag: () => {
      lagReads += 1;
      return base.groupLag();
    },
  };
  const app = createApp(deps);
  return {
    get: () => app.request('/health/cdc'),
    advance: (ms: number) => (clock += ms),
    lagReads: () => lagReads,
  };
}

describe('jobs /health/cdc under a flood', () => {
  test('300 concurrent requests make one lag read and get the same answer', async () => {
    const jobs = countingJobs();
    const responses = await Promise.all(Array.from({ length: 300 }, () => jobs.get()));
    expect(jobs.lagReads()).toBe(1);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    // Not running here (no consumer started), but Kafka answered: 503 naming only that.
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([503]));
    expect(new Set(bodies).size).toBe(1);
    const body = JSON.parse(bodies[0]!) as { problems: string[]; lag: { topics: unknown[] } | null };
    expect(body.problems).toEqual(['consumer has not started']);
    expect(body.lag?.topics.length).toBeGreaterThan(0);
  });

  test('a request every 10 ms for 3 s of the app clock: one lag read per second, none older than a second', async () => {
    const jobs = countingJobs();
    for (let elapsed = 0; elapsed < 3000; elapsed += 10) {
      await jobs.get();
      jobs.advance(10);
    }
    expect(jobs.lagReads()).toBe(3000 / CDC_HEALTH_REUSE_MS);
    // Exactly one second after the last round's start, the next request reads again.
    const before = jobs.lagReads();
    await jobs.get();
    expect(jobs.lagReads()).toBe(before + 1);
  });
});
