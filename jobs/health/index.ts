import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { registerCdcHealth } from './cdc.ts';
import { registerReadiness } from './ready.ts';

/** Health routes answer without a token (they hold no data). */
export function registerHealthRoutes(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  registerLiveHealth(app, 'jobs', deps.now);
  registerReadiness(app, deps);
  registerCdcHealth(app, deps);
}
