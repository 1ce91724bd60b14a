import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import { registerReadiness } from '../../common/http/health-ready.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { DEPENDENCY_RETRY_AFTER_SECONDS } from '../errors.ts';
import { registerCdcHealth } from './cdc.ts';

/** Health routes are the only ones reachable without a token. */
export function registerHealthRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerLiveHealth(app, 'core', deps.now);
  registerReadiness(app, {
    summary: 'Readiness: ClickHouse, S3 and the realm JWKS answer',
    probes: deps.readinessProbes,
    timeoutMs: deps.config.HEALTH_TIMEOUT_MS,
    retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
  });
  registerCdcHealth(app, deps);
}
