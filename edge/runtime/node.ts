import { getRequestListener } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createLogger } from '../../common/log.ts';
import { buildEdgeListeners, flushLogs, selectEdgeApps, type EdgeListener } from './apps.ts';
import { createNodeUpstream } from './node-upstream.ts';
import { joinCluster, workerCountOf, type ClusterPeers } from './workers.ts';

// Node adapter: reads process.env, listens (one process, or a worker per core with EDGE_WORKERS),
// and knows how Node exposes the peer address.
await serve(joinCluster(workerCountOf(process.env.EDGE_WORKERS), 'node'));

async function serve(peers: ClusterPeers | undefined): Promise<void> {
  const { listeners, close } = await buildEdgeListeners(process.env, selectEdgeApps(process.argv.slice(2)), {
    name: 'node',
    peerAddress: (c) => getConnInfo(c).remote.address,
    peers,
    fetchUpstream: upstreamClientOf(process.env.BFF_UPSTREAM_CLIENT),
  });
  for (const listener of listeners) if (listener.applyPeerPurge) peers?.onPurge(listener.applyPeerPurge);
  const servers = listeners.map((listener) => {
    const server = createServer(requestHandler(listener));
    // Each worker binds the port itself (exclusive: not through the primary); the kernel spreads connections.
    server.listen({ port: listener.port, host: listener.host, reusePort: peers !== undefined, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listener.port;
      createLogger({ service: listener.name }).info('server.listening', { runtime: 'node', port, pid: process.pid });
    });
    return server;
  });
  process.on('exit', flushLogs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      let open = servers.length;
      for (const server of servers) {
        server.close(() => --open === 0 && void close().finally(() => process.exit(0)));
        server.closeIdleConnections();
      }
    });
  }
}

/**
 * BFF_UPSTREAM_CLIENT: `node` (default) = node:http keep-alive client (20–25 % less client CPU per
 * call than undici's fetch, docs/edge.md); `fetch` = the global fetch, kept for comparison.
 */
function upstreamClientOf(value: string | undefined) {
  if (value === undefined || value === '' || value === 'node') return createNodeUpstream();
  if (value === 'fetch') return undefined;
  throw new Error(`edge: BFF_UPSTREAM_CLIENT must be node or fetch, got ${JSON.stringify(value)}`);
}

/**
 * A fresh cache hit of a known link is written straight to the socket from prepared headers; all
 * else goes through @hono/node-server to the app. Building a Web Request and Response per hit was
 * ~16 % of its CPU.
 */
function requestHandler(listener: EdgeListener): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const app = getRequestListener(listener.fetch);
  const answerHit = listener.answerHit;
  if (!answerHit) return app;
  return (incoming, outgoing) => {
    const hit = answerHit(incoming.method ?? '', incoming.url ?? '', (name) => incoming.headers[name] as string | undefined);
    if (!hit) return void app(incoming, outgoing);
    outgoing.writeHead(hit.status, hit.headers);
    outgoing.end(hit.body ?? undefined);
  };
}
