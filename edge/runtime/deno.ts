import { getConnInfo } from 'hono/deno';
import { createLogger } from '../../common/log.ts';
import { buildEdgeListeners, flushLogs, selectEdgeApps } from './apps.ts';

/**
 * Deno adapter: `deno run -A edge/runtime/deno.ts [--app=bff|cdn]`. Sessions in Redis through
 * npm:ioredis (resolved from node_modules), shared with Node and Bun edges; report objects in
 * Deno's Cache API.
 */
declare const Deno: {
  env: { toObject(): Record<string, string> };
  args: string[];
  serve(options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void }, handler: (request: Request, info: unknown) => Response | Promise<Response>): { shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
};

const { listeners, close } = await buildEdgeListeners(Deno.env.toObject(), selectEdgeApps(Deno.args), {
  name: 'deno',
  peerAddress: (c) => getConnInfo(c).remote.address,
  openCache: () => caches.open('bionicpro-cdn'),
});
const servers = listeners.map((listener) =>
  Deno.serve(
    {
      port: listener.port,
      hostname: listener.host,
      onListen: ({ port }) => createLogger({ service: listener.name }).info('server.listening', { runtime: 'deno', port }),
    },
    (request, info) => listener.fetch(request, info),
  ),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => {
    void Promise.all(servers.map((server) => server.shutdown()))
      .then(close)
      .finally(() => {
        flushLogs();
        Deno.exit(0);
      });
  });
}
