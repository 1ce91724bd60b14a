import { afterAll, describe, expect, test } from 'bun:test';
import { CDC_HEALTH_REUSE_MS } from '../../core/health/cdc.ts';
import { createCoreHarness, type CoreHarness } from './support/harness.ts';

/**
 * Issue 9: core's /health/cdc (no token; four FINAL scans in the real ClickHouse per round) answers
 * from a round at most a second old, so a flood of health requests costs at most one round a
 * second. The clock is the app's own (deps.now), stepped by the test, so "a second" is exact.
 * jobs' /health/cdc has the same guarantee, tested in tests/jobs/cdc-health-flood.int.test.ts.
 */
const opened: CoreHarness[] = [];
afterAll(async () => {
  for (const core of opened) await core.close();
});

function countingCore(envOverrides: Record<string, string> = {}) {
  let clock = 1_700_000_000_000;
  const core = createCoreHarness(envOverrides, { now: () => clock });
  opened.push(core);
  let rounds = 0;
  const tables = core.deps.cdc.tables.bind(core.deps.cdc);
  core.deps.cdc.tables = () => {
    rounds += 1;
    return tables();
  };
  return { get: () => core.request('/health/cdc'), advance: (ms: number) => (clock += ms), rounds: () => rounds };
}

describe('core /health/cdc under a flood', () => {
  test('300 concurrent requests make one ClickHouse round and get the same answer', async () => {
    const core = countingCore();
    const responses = await Promise.all(Array.from({ length: 300 }, () => core.get()));
    expect(core.rounds()).toBe(1);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(responses[0]!.status).toBe(200);
    expect((JSON.parse(bodies[0]!) as { tables: unknown[] }).tables).toHaveLength(4);
  });

  test('a request every 10 ms for 3 s of the app clock: one round per second, none older than a second', async () => {
    const core = countingCore();
    for (let elapsed = 0; elapsed < 3000; elapsed += 10) {
      await core.get();
      core.advance(10);
    }
    expect(core.rounds()).toBe(3000 / CDC_HEALTH_REUSE_MS);
    const before = core.rounds();
    await core.get();
    expect(core.rounds()).toBe(before + 1);
  });

  test('a failed round is reused for the same second too, then retried', async () => {
    const core = countingCore({ CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    const responses = await Promise.all(Array.from({ length: 50 }, () => core.get()));
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([503]));
    expect(core.rounds()).toBe(1);
    core.advance(CDC_HEALTH_REUSE_MS);
    expect((await core.get()).status).toBe(503);
    expect(core.rounds()).toBe(2);
  });
});
