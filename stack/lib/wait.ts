import { log } from './log.ts';
import { sleep } from './proc.ts';

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
