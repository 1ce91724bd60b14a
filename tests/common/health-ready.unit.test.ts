import { describe, expect, test } from 'bun:test';
import { registerReadiness } from '../../common/http/health-ready.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import { createMemoryLogger } from '../../common/log.ts';

/** registerReadiness on an injected clock: the reuse window and probe timings without sleeping. */
function readinessApp(probe: () => Promise<void>, options: { reuseForMs?: number } = {}) {
  let clock = 10_000;
  const app = createServiceApp({ logger: createMemoryLogger(), trustIncomingRequestId: false });
  registerReadiness(app, {
    summary: 'test',
    probes: { dep: probe },
    timeoutMs: 1_000,
    retryAfterSeconds: 3,
    reuseForMs: options.reuseForMs,
    now: () => clock,
  });
  return { app, advance: (ms: number) => (clock += ms) };
}

describe('registerReadiness', () => {
  test('answers from the last round within reuseForMs of the clock, probes again at its end', async () => {
    let probes = 0;
    const { app, advance } = readinessApp(async () => void probes++, { reuseForMs: 1_000 });
    expect((await app.request('/health/ready')).status).toBe(200);
    advance(999);
    await app.request('/health/ready');
    expect(probes).toBe(1);
    advance(1);
    await app.request('/health/ready');
    expect(probes).toBe(2);
  });

  test('without reuseForMs every request probes; timings come from the injected clock', async () => {
    let probes = 0;
    let advance: (ms: number) => number = () => 0;
    const built = readinessApp(async () => {
      probes++;
      advance(42);
      throw new Error('down');
    });
    advance = built.advance;
    const first = await built.app.request('/health/ready');
    await built.app.request('/health/ready');
    expect(probes).toBe(2);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(await first.json()).toEqual({ status: 'unavailable', failed: ['dep'], checks: { dep: { ok: false, ms: 42, error: 'down' } } });
  });
});
