import { createApp } from './app.ts';
import { loadCoreConfig } from './config.ts';
import { buildCoreDeps } from './deps.ts';
import { fillMissingOwnerRefsInBackground } from './crm/owner-refs.ts';
import { sweepLegacyReportObjectsInBackground } from './reports/legacy-objects.ts';

// The only place core reads process.env (under Bun).
const config = loadCoreConfig(process.env);
const deps = buildCoreDeps(config, { clickhouseTransport: 'fetch' });
// idleTimeout above the slowest dependency timeout, so Bun never drops a request still being answered.
const server = Bun.serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST, idleTimeout: 60 });
deps.logger.info('server.listening', { runtime: 'bun', host: config.HOST, port: server.port });
sweepLegacyReportObjectsInBackground(deps);
fillMissingOwnerRefsInBackground(deps);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => deps.close()).finally(() => process.exit(0));
  });
}
