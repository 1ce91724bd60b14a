import { cors } from 'hono/cors';
import { registerLiveHealth } from '../../common/http/health-live.ts';
import { createServiceApp } from '../../common/http/service-app.ts';
import { requireAllowedOrigin } from '../security/origin-check.ts';
import { rateLimit } from '../security/rate-limit.ts';
import { securityHeaders } from '../security/security-headers.ts';
import { registerAdminEndSessions } from './admin-end-sessions.ts';
import { guardAdminRoutes, registerAdminListSessions } from './admin-list-sessions.ts';
import { registerApiProxy } from './api-proxy.ts';
import { BACKCHANNEL_LOGOUT_PATH, registerBackchannelLogout } from './backchannel-logout.ts';
import { registerCallback } from './callback.ts';
import type { BffDeps, BffEnv } from './context.ts';
import { mapBffError } from './errors.ts';
import { registerBffReadiness } from './health-ready.ts';
import { registerFrontendAssets } from './frontend-assets.ts';
import { registerLogin } from './login.ts';
import { registerLogout } from './logout.ts';
import { registerMe } from './me.ts';

export type { BffDeps, BffEnv } from './context.ts';

/** The backend-for-frontend (login, session, API proxy, and the built app when given); never listens. */
export function createBffApp(deps: BffDeps) {
  const { config } = deps;
  // Public listener: browsers must not choose the request id that ends up in every log line.
  const app = createServiceApp<BffEnv>({ logger: deps.logger, trustIncomingRequestId: false, mapError: mapBffError });
  app.use(
    '*',
    securityHeaders({
      publicUrl: config.BFF_PUBLIC_URL,
      connectOrigins: [new URL(config.CDN_URL).origin],
      formOrigins: [new URL(config.KEYCLOAK_PUBLIC_URL ?? config.KEYCLOAK_URL).origin],
    }),
  );
  app.use(
    '*',
    cors({
      origin: (origin) => (config.ALLOWED_ORIGINS.includes(origin) ? origin : null),
      credentials: true,
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowHeaders: ['content-type', 'if-none-match'],
      exposeHeaders: ['x-request-id', 'retry-after', 'etag'],
      maxAge: 600,
    }),
  );
  app.use('*', requireAllowedOrigin(config.ALLOWED_ORIGINS, { serverToServerPaths: [BACKCHANNEL_LOGOUT_PATH] }));
  // Back-channel logout is exempt: one Keycloak address may end many sessions at once, and every call carries a signed, single-use token.
  app.use('/auth/*', rateLimit({ store: deps.store, scope: 'auth', limit: config.AUTH_RATE_LIMIT, windowSeconds: config.AUTH_RATE_WINDOW_SECONDS, now: deps.now, clientOf: deps.clientAddress, exemptPaths: [BACKCHANNEL_LOGOUT_PATH] }));

  registerLiveHealth(app, 'bff', deps.now);
  registerBffReadiness(app, deps);
  registerLogin(app, deps);
  registerCallback(app, deps);
  registerMe(app, deps);
  registerLogout(app, deps);
  registerBackchannelLogout(app, deps);
  guardAdminRoutes(app, deps);
  registerAdminListSessions(app, deps);
  registerAdminEndSessions(app, deps);
  registerApiProxy(app, deps);
  app.doc('/openapi.json', { openapi: '3.0.0', info: { title: 'BionicPRO BFF', version: '1', description: 'Login, session and the /api/* proxy to core (documented in core’s own /openapi.json)' } });
  // Last: every route above wins over the built app's catch-all.
  registerFrontendAssets(app, deps);
  return app;
}
