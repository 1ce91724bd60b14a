import { registerLiveHealth } from '../../common/http/health-live.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import type { EdgeDeps } from '../deps.ts';

export type BffEnv = { Variables: { requestId: string } };

/** The backend-for-frontend (login, session, API proxy); never listens. */
export function createBffApp(deps: EdgeDeps) {
  // Public listener: browsers must not choose the request id that ends up in every log line.
  const app = createServiceApp<BffEnv>({ logger: deps.logger, trustIncomingRequestId: false });
  registerLiveHealth(app, 'bff', deps.now);
  return app;
}
