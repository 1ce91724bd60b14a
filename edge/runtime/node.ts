import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { buildEdgeListeners, selectEdgeApps } from './apps.ts';

// Node adapter: reads process.env, listens, and knows how Node exposes the peer address.
const { listeners, close } = await buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)), {
  name: 'node',
  peerAddress: (c) => getConnInfo(c).remote.address,
});
const servers = listeners.map((listener) =>
  serve({ fetch: listener.fetch, port: listener.port, hostname: listener.host }, (info) => {
    console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: listener.name, event: 'server.listening', runtime: 'node', port: info.port }));
  }),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    let open = servers.length;
    for (const server of servers) server.close(() => --open === 0 && void close().finally(() => process.exit(0)));
  });
}
