import { createApp } from './app.ts';
import { loadJobsConfig } from './config.ts';
import { buildJobsDeps } from './deps.ts';
import { startJobsRuntime } from './runtime.ts';

// The only place jobs reads process.env (under Bun).
const config = loadJobsConfig(process.env);
const deps = buildJobsDeps(config, { clickhouseTransport: 'fetch' });
const server = Bun.serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST });
deps.logger.info('server.listening', { runtime: 'bun', host: config.HOST, port: server.port });
const runtime = startJobsRuntime(deps);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void runtime
      .stop()
      .catch((error: unknown) => deps.logger.error('shutdown.failed', { error }))
      .finally(() => void server.stop().then(() => deps.close()).finally(() => process.exit(0)));
  });
}
