import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { addRegionalPerson, type OperatorTestPerson } from './crm-people.ts';
import { serviceAccountToken } from './support/keycloak-people.ts';
import { floodAndWatch, startServiceChild, type ServiceChild } from './support/chunked-flood.ts';

/**
 * Issue 9, bounded inputs: core started from its Node and its Bun entry file; 1 GiB sent chunked (no
 * Content-Length) to each body-taking route is refused with 413 within a second, the process's
 * RSS grows by less than 32 MiB, and /health/live answers meanwhile. Before the fix the telemetry
 * signature check read the body whole (hono's bodyLimit only errored once a reader hit the limit,
 * and the source was never cancelled) and invalidate and the CRM writes had no limit at all.
 */
const env = loadStackEnv();
let serviceToken: string;
let operator: OperatorTestPerson;
let operatorToken: string;

beforeAll(async () => {
  [serviceToken, operator] = await Promise.all([serviceAccountToken(env), addRegionalPerson(env, 'ru', ['crm_operator'], 'flood')]);
  operatorToken = await operator.accessToken();
}, 60_000);
afterAll(async () => {
  await operator?.remove();
});

const MIB = 1024 * 1024;

describe.each(['node', 'bun'])('core under %s: a 1 GiB chunked body is cut off at the limit', (runtime) => {
  let core: ServiceChild;
  beforeAll(async () => {
    core = await startServiceChild(`core/serve-${runtime}.ts`, { ...process.env, ...env });
  }, 60_000);
  afterAll(async () => {
    await core?.stop();
  });
  const routes: Array<{ path: string; headers: () => Record<string, string> }> = [
    { path: '/api/telemetry', headers: () => ({ 'x-chip-id': 'CHIP-FLOOD', 'x-timestamp': String(Math.floor(Date.now() / 1000)), 'x-signature': '0'.repeat(64) }) },
    { path: '/api/reports/invalidate', headers: () => ({ authorization: `Bearer ${serviceToken}` }) },
    // The CRM operator's writes (PATCH/PUT share the same middleware): one route per resource.
    ...['/api/crm/customers', '/api/crm/orders', '/api/crm/prostheses'].map((path) => ({ path, headers: () => ({ authorization: `Bearer ${operatorToken}` }) })),
  ];
  for (const route of routes) {
    test(`POST ${route.path}: 413 within 1 s, RSS +<32 MiB, /health/live answers meanwhile`, async () => {
      const { result, rssGrowthBytes, health, alive } = await floodAndWatch(core, route.path, route.headers());
      console.log(`core (${runtime}) ${route.path}: status ${result.status} in ${result.msToAnswer?.toFixed(0)} ms, client sent ${(result.sentBytes / MIB).toFixed(1)} MiB, RSS +${(rssGrowthBytes / MIB).toFixed(1)} MiB, /health/live ${health.status} in ${health.ms.toFixed(0)} ms${result.status === 413 ? '' : `; ${JSON.stringify(result).slice(0, 400)}`}`);
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
