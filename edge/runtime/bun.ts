import { buildEdgeListeners, selectEdgeApps } from './apps.ts';

// Bun adapter: the only edge file (with node.ts) that reads process.env and listens.
const listeners = buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)));
const servers = listeners.map((listener) => {
  const server = Bun.serve({ fetch: listener.fetch, port: listener.port, hostname: listener.host });
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: listener.name, event: 'server.listening', runtime: 'bun', port: server.port }));
  return server;
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all(servers.map((server) => server.stop())).then(() => process.exit(0));
  });
}
