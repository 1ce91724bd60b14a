import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { registerCdcHealth } from './cdc.ts';
import { registerReadiness } from './ready.ts';

/** Health routes are the only ones reachable without a token. */
export function registerHealthRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerLiveHealth(app, 'core', deps.now);
  registerReadiness(app, deps);
  registerCdcHealth(app, deps);
}
