import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadCoreConfig } from './config.ts';
import { buildCoreDeps } from './deps.ts';
import { fillMissingOwnerRefsInBackground } from './crm/owner-refs.ts';
import { sweepLegacyReportObjectsInBackground } from './reports/legacy-objects.ts';

// The only place core reads process.env.
const config = loadCoreConfig(process.env);
const deps = buildCoreDeps(config);
const server = serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  deps.logger.info('server.listening', { runtime: 'node', host: config.HOST, port: info.port });
});
sweepLegacyReportObjectsInBackground(deps);
fillMissingOwnerRefsInBackground(deps);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => void deps.close().finally(() => process.exit(0))));
}
