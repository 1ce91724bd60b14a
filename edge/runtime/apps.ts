import type { Context } from 'hono';
import { z } from 'zod';
import { parseConfig } from '../../common/config.ts';
import { createLogger } from '../../common/log.ts';
import { createBffApp } from '../bff/app.ts';
import { buildBffDeps } from '../bff/deps.ts';
import { createCacheApiCache } from '../cdn/cache/cache-api.ts';
import { createMemoryLruCache } from '../cdn/cache/memory-lru.ts';
import { createPurgeLedger } from '../cdn/cache/purge-ledger.ts';
import { createCdnApp } from '../cdn/app.ts';
import { buildCdnDeps, retainSecondsOf } from '../cdn/deps.ts';
import { loadBffConfig, loadCdnConfig, loadEdgeConfig } from '../config.ts';
import { openFrontendDist } from './frontend-dist.ts';
import { createRedisStore } from './redis-store.ts';
import { createZlibCompressor } from './zlib-compressor.ts';

/**
 * Shared by the server entries (node.ts, bun.ts, deno.ts): builds the selected apps with the
 * adapters a server process has — Redis for sessions and purge marks, node:zlib for br/gzip,
 * either the in-memory LRU (Node, Bun) or the Cache API (Deno) for report objects, and node:fs for
 * the built app when FRONTEND_DIST_DIR is set.
 * workerd.ts builds its own (Durable Object store, Cache API, workerd's response encoding).
 */
export type EdgeAppName = 'bff' | 'cdn';

export interface EdgeListener {
  name: EdgeAppName;
  port: number;
  host: string;
  /** The runtime's second fetch argument (Bun's server, Deno's ServeHandlerInfo) reaches handlers as c.env. */
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
}

export interface ServerRuntime {
  name: 'node' | 'bun' | 'deno';
  peerAddress: (c: Context) => string | undefined;
  /** Deno: the Cache API; Node and Bun have none and use the in-memory LRU. */
  openCache?: () => Promise<Cache>;
}

/** Which apps to serve: `--app=bff`, `--app=cdn` or (default) both. */
export function selectEdgeApps(argv: string[]): EdgeAppName[] {
  const flag = argv.find((arg) => arg.startsWith('--app='))?.slice('--app='.length) ?? 'all';
  if (flag === 'all') return ['bff', 'cdn'];
  if (flag === 'bff' || flag === 'cdn') return [flag];
  throw new Error(`edge: unknown --app=${flag} (expected bff, cdn or all)`);
}

const ServerConfigSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// URL'),
});

export async function buildEdgeListeners(
  env: Record<string, string | undefined>,
  names: EdgeAppName[],
  runtime: ServerRuntime,
): Promise<{ listeners: EdgeListener[]; close: () => Promise<void> }> {
  const shared = loadEdgeConfig(env);
  // Redis only where something uses it: the BFF, and purge marks of the Cache API (Deno's CDN).
  const needsStore = names.includes('bff') || runtime.openCache !== undefined;
  const store = needsStore ? createRedisStore({ url: parseConfig('edge (server)', ServerConfigSchema, env).REDIS_URL }) : undefined;
  const compressor = createZlibCompressor();
  const listeners: EdgeListener[] = [];
  for (const name of names) {
    const logger = createLogger({ service: name, level: shared.LOG_LEVEL }).child({ runtime: runtime.name });
    if (name === 'bff') {
      const config = loadBffConfig(env);
      const frontendAssets = config.FRONTEND_DIST_DIR ? await openFrontendDist(config.FRONTEND_DIST_DIR) : undefined;
      const deps = await buildBffDeps(config, { store: store!, logger, peerAddress: runtime.peerAddress, frontendAssets, compressor });
      listeners.push({ name, port: config.BFF_PORT, host: config.HOST, fetch: createBffApp(deps).fetch });
    } else {
      const config = loadCdnConfig(env);
      const cache = runtime.openCache
        ? createCacheApiCache({ open: runtime.openCache, retainSeconds: retainSecondsOf(config), ledger: createPurgeLedger({ store: store!, now: Date.now, retainSeconds: retainSecondsOf(config) }) })
        : createMemoryLruCache(config.CDN_CACHE_MAX_BYTES);
      const deps = buildCdnDeps(config, { cache, compressor, logger });
      listeners.push({ name, port: config.CDN_PORT, host: config.HOST, fetch: createCdnApp(deps).fetch });
    }
  }
  return { listeners, close: async () => store?.close() };
}
