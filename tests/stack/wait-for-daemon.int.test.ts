import { afterEach, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { paths } from '../../tools/kit/paths.ts';
import { runningPid, startDaemon, stopDaemon } from '../../tools/kit/proc.ts';
import { logTail, waitForDaemon } from '../../tools/kit/wait.ts';

// The start-up wait every stack service uses, over real child processes under scratch names
// (never a stack service's own pid or log file).
const names: string[] = [];
const scratchName = () => {
  const name = `test-wait-${process.pid}-${names.length}`;
  names.push(name);
  return name;
};

afterEach(async () => {
  for (const name of names.splice(0)) {
    await stopDaemon(name, 2_000);
    rmSync(paths.log(name), { force: true });
  }
});

describe('waitForDaemon', () => {
  test('a daemon that exits fails the wait at once, with the message and its log tail', async () => {
    const name = scratchName();
    startDaemon(name, 'sh', ['-c', 'echo "port 1 taken"; exit 3']);
    const error = await waitForDaemon(name, async () => false, { timeoutMs: 20_000, intervalMs: 50, exitedMessage: `${name} exited during start` }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toStartWith(`${name} exited during start\nlast lines of ${paths.log(name)}:`);
    expect(error?.message).toContain('port 1 taken');
  });

  test('a running daemon is waited for until its probe answers', async () => {
    const name = scratchName();
    startDaemon(name, 'sleep', ['30']);
    let probes = 0;
    await waitForDaemon(name, async () => ++probes >= 3, { timeoutMs: 20_000, intervalMs: 20 });
    expect(probes).toBe(3);
    expect(runningPid(name)).toBeNumber();
  });

  test('a daemon that never answers times out naming the service, with its log tail', async () => {
    const name = scratchName();
    startDaemon(name, 'sh', ['-c', 'echo "still loading"; exec sleep 30']);
    const error = await waitForDaemon(name, async () => false, { timeoutMs: 300, intervalMs: 50 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toStartWith(`${name} not ready after`);
    expect(error?.message).toContain('still loading');
  });

  test('logTail says so when there is no log', () => {
    expect(logTail('test-wait-never-started')).toBe(`(no log at ${paths.log('test-wait-never-started')})`);
  });
});
