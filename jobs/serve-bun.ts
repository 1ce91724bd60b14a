import { createApp } from './app.ts';
import { loadJobsConfig } from './config.ts';
import { buildJobsDeps } from './deps.ts';

// The only place jobs reads process.env (under Bun).
const config = loadJobsConfig(process.env);
const deps = buildJobsDeps(config);
const server = Bun.serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST });
deps.logger.info('server.listening', { runtime: 'bun', host: config.HOST, port: server.port });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
