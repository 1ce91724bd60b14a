import { getConnInfo } from 'hono/bun';
import { createLogger } from '../../common/log.ts';
import { buildEdgeListeners, flushLogs, selectEdgeApps, type EdgeListener } from './apps.ts';
import { joinCluster, workerCountOf, type ClusterPeers } from './workers.ts';

// Bun adapter: reads process.env, listens with Bun.serve (which hands the server to fetch as c.env);
// one process, or a worker per core with EDGE_WORKERS (node:cluster + reusePort).
await serve(joinCluster(workerCountOf(process.env.EDGE_WORKERS), 'bun'));

async function serve(peers: ClusterPeers | undefined): Promise<void> {
  const { listeners, close } = await buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)), {
    name: 'bun',
    peerAddress: (c) => getConnInfo(c).remote.address,
    peers,
  });
  for (const listener of listeners) if (listener.applyPeerPurge) peers?.onPurge(listener.applyPeerPurge);
  const servers = listeners.map((listener) => {
    const server = Bun.serve({ fetch: fetchHandler(listener), port: listener.port, hostname: listener.host, reusePort: peers !== undefined });
    createLogger({ service: listener.name }).info('server.listening', { runtime: 'bun', port: server.port, pid: process.pid });
    return server;
  });
  process.on('exit', flushLogs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.all(servers.map((server) => server.stop()))
        .then(close)
        .finally(() => process.exit(0));
    });
  }
}

/** A fresh cache hit of a known link skips Hono (routing, middleware, context); all else goes to the app. */
function fetchHandler(listener: EdgeListener): (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response> {
  const answerHit = listener.answerHit;
  if (!answerHit) return (request, server) => listener.fetch(request, server);
  return (request, server) => {
    const url = request.url;
    const hit = answerHit(request.method, url.slice(url.indexOf('/', url.indexOf('//') + 2)), (name) => request.headers.get(name));
    if (!hit) return listener.fetch(request, server);
    return new Response(hit.body as BodyInit | null, { status: hit.status, headers: hit.headers });
  };
}
