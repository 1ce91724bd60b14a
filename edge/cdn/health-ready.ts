import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerReadiness } from '../../common/http/health-ready.ts';
import type { CdnDeps, CdnEnv } from './context.ts';

/** A key no report has: S3 answering 404 (or 200) for it proves the bucket is reachable and signed requests pass. */
const PROBE_KEY = 'health/readiness-probe.json';

/**
 * GET /health/ready for the CDN edge: the report bucket answers a signed read. Cached copies can
 * still be served without it (stale-if-error), but a miss cannot. Failure messages go to the log.
 */
export function registerCdnReadiness(app: OpenAPIHono<CdnEnv>, deps: CdnDeps): void {
  registerReadiness(app, {
    summary: 'Ready when the report bucket answers a signed read',
    timeoutMs: deps.config.CDN_ORIGIN_TIMEOUT_MS,
    retryAfterSeconds: 5,
    privateErrors: deps.logger,
    reuseForMs: 1_000,
    probes: {
      s3: async () => {
        await deps.origin.fetch(PROBE_KEY);
      },
    },
  });
}
