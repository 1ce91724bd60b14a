import { getConnInfo } from 'hono/bun';
import { buildEdgeListeners, selectEdgeApps } from './apps.ts';

// Bun adapter: reads process.env, listens with Bun.serve (which hands the server to fetch as c.env).
const { listeners, close } = await buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)), {
  name: 'bun',
  peerAddress: (c) => getConnInfo(c).remote.address,
});
const servers = listeners.map((listener) => {
  const server = Bun.serve({ fetch: (request, bunServer) => listener.fetch(request, bunServer), port: listener.port, hostname: listener.host });
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: listener.name, event: 'server.listening', runtime: 'bun', port: server.port }));
  return server;
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all(servers.map((server) => server.stop()))
      .then(close)
      .finally(() => process.exit(0));
  });
}
