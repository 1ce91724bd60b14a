import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import { registerReadiness } from '../../common/http/health-ready.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { registerCdcHealth } from './cdc.ts';

/** Health routes answer without a token (they hold no data). */
export function registerHealthRoutes(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  registerLiveHealth(app, 'jobs', deps.now);
  registerReadiness(app, {
    summary: 'Readiness: the telemetry database and ClickHouse answer, and the CDC consumer (if enabled) has joined its group',
    probes: deps.readinessProbes,
    timeoutMs: deps.config.HEALTH_TIMEOUT_MS,
    retryAfterSeconds: 5,
  });
  registerCdcHealth(app, deps);
}
