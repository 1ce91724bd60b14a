import { serve } from '@hono/node-server';
import { buildEdgeListeners, selectEdgeApps } from './apps.ts';

// Node adapter: the only edge file (with bun.ts) that reads process.env and listens.
const listeners = buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)));
const servers = listeners.map((listener) =>
  serve({ fetch: listener.fetch, port: listener.port, hostname: listener.host }, (info) => {
    console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: listener.name, event: 'server.listening', runtime: 'node', port: info.port }));
  }),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    let open = servers.length;
    for (const server of servers) server.close(() => --open === 0 && process.exit(0));
  });
}
