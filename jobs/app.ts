import { registerLiveHealth } from '../common/http/health-live.ts';
import { createServiceApp } from '../common/http/service-app.ts';
import type { JobsDeps } from './deps.ts';

export type JobsEnv = { Variables: { requestId: string } };

/** The jobs service's HTTP face (health, metrics, manual triggers); never listens. */
export function createApp(deps: JobsDeps) {
  const app = createServiceApp<JobsEnv>({ logger: deps.logger, trustIncomingRequestId: deps.config.TRUST_REQUEST_ID });
  registerLiveHealth(app, 'jobs', deps.now);
  return app;
}
