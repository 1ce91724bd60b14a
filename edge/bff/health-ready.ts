import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerReadiness } from '../../common/http/health-ready.ts';
import { jwksProbe, liveProbe } from '../../common/http/probes.ts';
import { storeKeys } from '../store/store.ts';
import type { BffDeps, BffEnv } from './context.ts';

const PROBE_TIMEOUT_MS = 2_000;

/**
 * GET /health/ready for the BFF: it can keep sessions (the store answers), verify logins (the
 * realm's keys) and serve /api (core is live). On this public listener the failures' messages go
 * to the log, the response names only the failed checks.
 */
export function registerBffReadiness(app: OpenAPIHono<BffEnv>, deps: BffDeps): void {
  const { config } = deps;
  registerReadiness(app, {
    summary: 'Ready when the session store, the realm keys and core answer',
    timeoutMs: PROBE_TIMEOUT_MS,
    retryAfterSeconds: 5,
    privateErrors: deps.logger,
    reuseForMs: 1_000,
    probes: {
      store: async () => {
        await deps.store.get(storeKeys.readinessProbe());
      },
      keycloak: jwksProbe(`${config.KEYCLOAK_ISSUER}/protocol/openid-connect/certs`, PROBE_TIMEOUT_MS, deps.fetchUpstream),
      core: liveProbe(config.CORE_URL, PROBE_TIMEOUT_MS, deps.fetchUpstream),
    },
  });
}
