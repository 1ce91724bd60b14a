import { registerLiveHealth } from '../../common/http/health-live.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import type { EdgeDeps } from '../deps.ts';

export type CdnEnv = { Variables: { requestId: string } };

/** The CDN cache edge in front of the report objects; never listens. */
export function createCdnApp(deps: EdgeDeps) {
  const app = createServiceApp<CdnEnv>({ logger: deps.logger, trustIncomingRequestId: false });
  registerLiveHealth(app, 'cdn', deps.now);
  return app;
}
