import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../tools/kit/paths.ts';

// Under the Node 24 the scripts run, with no --disable-warning: kafkajs's request queue arms a
// negative timeout on an idle queue; the fix stops that, and a negative timeout of ours still warns.
const script = `
  import { createRequire } from 'node:module';
  import { fixKafkajsNegativeTimeout } from './jobs/cdc/kafkajs-negative-timeout.ts';
  if (process.argv.includes('--fix')) fixKafkajsNegativeTimeout();
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js');
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 100, clientId: 't', broker: 'b', logger: {} });
  queue.scheduleCheckPendingRequests();
  const armedIdle = queue.throttleCheckTimeoutId !== null && queue.throttleCheckTimeoutId !== undefined;
  clearTimeout(queue.throttleCheckTimeoutId);
  // A throttle in force still gets its check, exactly as kafkajs arms it.
  queue.throttleCheckTimeoutId = null;
  queue.throttledUntil = Date.now() + 50;
  queue.scheduleCheckPendingRequests();
  const armedThrottled = Boolean(queue.throttleCheckTimeoutId);
  clearTimeout(queue.throttleCheckTimeoutId);
  if (process.argv.includes('--own')) clearTimeout(setTimeout(() => {}, -5));
  console.log(JSON.stringify({ armedIdle, armedThrottled }));
`;

function run(...flags: string[]): { stderr: string; armedIdle: boolean; armedThrottled: boolean } {
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'node'), ['--input-type=module', '-e', script, '--', ...flags], { cwd: ROOT, encoding: 'utf8' });
  expect(result.status).toBe(0);
  return { stderr: result.stderr, ...JSON.parse(result.stdout) };
}

describe('kafkajs negative timeout', () => {
  test('unfixed, an idle request queue arms a negative timeout and Node warns', () => {
    const unfixed = run();
    expect(unfixed.armedIdle).toBe(true);
    expect(unfixed.stderr).toContain('TimeoutNegativeWarning');
  });

  test('fixed, the idle queue arms nothing and Node stays quiet; a throttled queue still gets its check', () => {
    const fixed = run('--fix');
    expect(fixed).toEqual({ stderr: '', armedIdle: false, armedThrottled: true });
  });

  test("the warning is not hidden: a negative timeout elsewhere in the process still warns", () => {
    const own = run('--fix', '--own');
    expect(own.stderr).toContain('TimeoutNegativeWarning: -5 is a negative number');
  });
});
