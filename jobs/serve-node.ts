import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadJobsConfig } from './config.ts';
import { buildJobsDeps } from './deps.ts';

// The only place jobs reads process.env.
const config = loadJobsConfig(process.env);
const deps = buildJobsDeps(config);
const server = serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  deps.logger.info('server.listening', { runtime: 'node', host: config.HOST, port: info.port });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
