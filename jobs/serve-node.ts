import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadJobsConfig } from './config.ts';
import { buildJobsDeps } from './deps.ts';
import { startJobsRuntime } from './runtime.ts';

// The only place jobs reads process.env (under Node).
const config = loadJobsConfig(process.env);
const deps = buildJobsDeps(config, { clickhouseTransport: 'node' });
const server = serve({ fetch: createApp(deps).fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  deps.logger.info('server.listening', { runtime: 'node', host: config.HOST, port: info.port });
});
const runtime = startJobsRuntime(deps);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    // The consumer finishes its batch and leaves the group; a run in progress is abandoned with its
    // lock (the session ends) and its watermark unchanged, so the next run redoes it.
    void runtime
      .stop()
      .catch((error: unknown) => deps.logger.error('shutdown.failed', { error }))
      .finally(() => server.close(() => void deps.close().finally(() => process.exit(0))));
  });
}
