import { describe, expect, test } from 'bun:test';
import { oneAptRunAtATime } from '../../tools/kit/apt.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('oneAptRunAtATime', () => {
  test('runs tasks one after another, in the order they were asked for', async () => {
    const events: string[] = [];
    let running = 0;
    let overlapped = false;
    const task = (name: string, ms: number) => async () => {
      running++;
      if (running > 1) overlapped = true;
      events.push(`start ${name}`);
      await tick(ms);
      events.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([oneAptRunAtATime(task('postgres-crm', 30)), oneAptRunAtATime(task('postgres-telemetry', 5)), oneAptRunAtATime(task('redis', 1))]);
    expect(results).toEqual(['postgres-crm', 'postgres-telemetry', 'redis']);
    expect(overlapped).toBe(false);
    expect(events).toEqual(['start postgres-crm', 'end postgres-crm', 'start postgres-telemetry', 'end postgres-telemetry', 'start redis', 'end redis']);
  });

  test('a failed task fails only its caller; the next one still runs', async () => {
    const failing = oneAptRunAtATime(async () => {
      throw new Error('E: Unable to locate package nosuchpkg');
    });
    const next = oneAptRunAtATime(async () => 'installed');
    await expect(failing).rejects.toThrow('nosuchpkg');
    expect(await next).toBe('installed');
  });
});
