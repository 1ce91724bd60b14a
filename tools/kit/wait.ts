import { existsSync, readFileSync } from 'node:fs';
import { log } from './log.ts';
import { paths } from './paths.ts';
import { runningPid, sleep } from './proc.ts';

/**
 * Polls a protocol-level readiness probe until it answers true, printing progress, and fails with
 * the last probe error after the timeout.
 */
export async function waitUntilReady(
  service: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 120_000, intervalMs = 500, onTimeout }: { timeoutMs?: number; intervalMs?: number; onTimeout?: () => string } = {},
): Promise<void> {
  const started = Date.now();
  let lastError = '';
  let lastPrint = 0;
  for (;;) {
    try {
      if (await probe()) {
        if (Date.now() - started > 2_000) log.endProgress();
        return;
      }
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs) {
      log.endProgress();
      throw new Error(`${service} not ready after ${Math.round(elapsed / 1000)}s${lastError ? `: ${lastError}` : ''}${onTimeout ? `\n${onTimeout()}` : ''}`);
    }
    if (elapsed - lastPrint >= 5_000) {
      lastPrint = elapsed;
      log.progress(service, `waiting for readiness… ${Math.round(elapsed / 1000)}s`);
    }
    await sleep(intervalMs);
  }
}

/** The tail of a service's log, for error messages when a daemon does not come up. */
export function logTail(service: string, lines = 20): string {
  const file = paths.log(service);
  if (!existsSync(file)) return `(no log at ${file})`;
  return `last lines of ${file}:\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
}

export interface DaemonWaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** The first line of the error when the daemon exits instead of becoming ready. */
  exitedMessage?: string;
}

/**
 * Waits for a daemon this stack started (its pid file) to pass its protocol probe, but gives up at
 * once, with its log tail, when the process has exited, instead of polling a dead port until the
 * timeout.
 */
export async function waitForDaemon(service: string, probe: () => Promise<boolean>, options: DaemonWaitOptions): Promise<void> {
  let exited = false;
  const probeWhileAlive = async (): Promise<boolean> => {
    if (runningPid(service) === undefined) {
      exited = true;
      return true;
    }
    return probe();
  };
  await waitUntilReady(service, probeWhileAlive, { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, onTimeout: () => logTail(service) });
  if (exited) throw new Error(`${options.exitedMessage ?? `${service} exited during start-up`}\n${logTail(service)}`);
}
