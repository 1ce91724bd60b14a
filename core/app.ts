import { registerLiveHealth } from '../common/http/health-live.ts';
import { createServiceApp } from '../common/http/service-app.ts';
import type { CoreDeps } from './deps.ts';

export type CoreEnv = { Variables: { requestId: string } };

/** Builds the reports service; never listens (the runtime entry files do). */
export function createApp(deps: CoreDeps) {
  const app = createServiceApp<CoreEnv>({ logger: deps.logger, trustIncomingRequestId: deps.config.TRUST_REQUEST_ID });
  registerLiveHealth(app, 'core', deps.now);
  return app;
}
