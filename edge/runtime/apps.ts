import type { Context } from 'hono';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../../common/config.ts';
import { createBatchedWriter, createLogger } from '../../common/log.ts';
import { createCacheApiCache } from '../cdn/cache/cache-api.ts';
import { createMemoryLruCache } from '../cdn/cache/memory-lru.ts';
import { createPurgeLedger } from '../cdn/cache/purge-ledger.ts';
import type { UpstreamFetch } from '../bff/context.ts';
import { createCdnApp } from '../cdn/app.ts';
import type { PurgeTarget } from '../cdn/cache/object-cache.ts';
import type { CdnPeers } from '../cdn/context.ts';
import { applyPeerPurge, buildCdnDeps, retainSecondsOf } from '../cdn/deps.ts';
import { createFastHits, type FastHits } from '../cdn/fast-hit.ts';
import { loadBffConfig, loadCdnConfig, loadEdgeConfig } from '../config.ts';
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
  /** CDN with an in-process cache: fresh hits of known links, answered before the app (edge/cdn/fast-hit.ts). */
  answerHit?: FastHits;
  /** CDN: drop what a purge answered by another worker covers. */
  applyPeerPurge?: (target: PurgeTarget) => Promise<unknown>;
}

export interface ServerRuntime {
  name: 'node' | 'bun' | 'deno';
  peerAddress: (c: Context) => string | undefined;
  /** Deno: the Cache API; Node and Bun have none and use the in-memory LRU. */
  openCache?: () => Promise<Cache>;
  /** Other workers of this edge (node:cluster), for purges. */
  peers?: CdnPeers;
  /** The BFF's client to core (Node: node-upstream.ts); absent, the global fetch. */
  fetchUpstream?: UpstreamFetch;
}

/**
 * Log lines leave in one write per turn of the event loop (an error line at once), so a busy
 * edge makes one write per batch instead of one per request, as nginx buffers its access log.
 * Measured against pino (which was asked for): 3.7 µs of CPU per wide-event line here against
 * 7.4 µs with pino on Node, 3.3 against 9.3 on Bun (docs/edge.md).
 */
const stdout = createBatchedWriter((text) => {
  // console.log, not process.stdout.write: Deno's node:process stream queued writes in memory under
  // load (RSS 86 → 400 MiB in 5 s); console.log writes through at once on all three runtimes.
  console.log(text);
});
/** Writes pending log lines now; the entries call it before they exit. */
export const flushLogs = stdout.flush;

/** Which apps to serve: `--app=bff`, `--app=cdn` or (default) both. */
export function selectEdgeApps(argv: string[]): EdgeAppName[] {
  const flag = argv.find((arg) => arg.startsWith('--app='))?.slice('--app='.length) ?? 'all';
  if (flag === 'all') return ['bff', 'cdn'];
  if (flag === 'bff' || flag === 'cdn') return [flag];
  throw new Error(`edge: unknown --app=${flag} (expected bff, cdn or all)`);
}

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')
  .refine((value) => {
    const url = new URL(value);
    return !url.username || url.password !== '';
  }, 'names a user without a password');
/** An empty variable counts as unset (compose and the dev runner blank what a process must not hold). */
const optionalRedisUrl = z.preprocess((value) => (value === '' ? undefined : value), redisUrl.optional());

/**
 * Each app reaches Redis as its own ACL user (stack/services/redis-acl.ts: the BFF cannot read purge
 * nonces, the CDN cannot read sessions), so one process serving both holds two connections.
 * REDIS_URL serves an app without its own variable (one Redis user for both, as before).
 */
const ServerConfigSchema = z.object({
  REDIS_URL: optionalRedisUrl,
  BFF_REDIS_URL: optionalRedisUrl,
  CDN_REDIS_URL: optionalRedisUrl,
});

/** The Redis URL of each selected app; every missing one is named at once. */
export function edgeRedisUrls(env: Record<string, string | undefined>, names: readonly EdgeAppName[]): Record<EdgeAppName, string> {
  const config = parseConfig('edge (server)', ServerConfigSchema, env);
  const urls = { bff: config.BFF_REDIS_URL ?? config.REDIS_URL, cdn: config.CDN_REDIS_URL ?? config.REDIS_URL };
  const missing = names.filter((name) => !urls[name]).map((name) => `${name.toUpperCase()}_REDIS_URL: required (or REDIS_URL for every app)`);
  if (missing.length > 0) throw new ConfigError('edge (server)', missing);
  return urls as Record<EdgeAppName, string>;
}

export async function buildEdgeListeners(
  env: Record<string, string | undefined>,
  names: EdgeAppName[],
  runtime: ServerRuntime,
): Promise<{ listeners: EdgeListener[]; close: () => Promise<void> }> {
  const shared = loadEdgeConfig(env);
  // Every app uses Redis: the BFF for sessions, the CDN for purge nonces (shared by all workers, so a
  // replayed purge fails on any of them) and, with the Cache API (Deno), purge marks.
  const redisUrls = edgeRedisUrls(env, names);
  const { createRedisStore } = await import('./redis-store.ts');
  const stores = new Map<string, ReturnType<typeof createRedisStore>>();
  const storeFor = (name: EdgeAppName) => {
    const url = redisUrls[name];
    let store = stores.get(url);
    if (!store) stores.set(url, (store = createRedisStore({ url })));
    return store;
  };
  const compressor = createZlibCompressor();
  const listeners: EdgeListener[] = [];
  for (const name of names) {
    const logger = createLogger({ service: name, level: shared.LOG_LEVEL, write: stdout.write }).child({ runtime: runtime.name });
    if (name === 'bff') {
      const [{ createBffApp }, { buildBffDeps }, { openFrontendDist }] = await Promise.all([import('../bff/app.ts'), import('../bff/deps.ts'), import('./frontend-dist.ts')]);
      const config = loadBffConfig(env);
      const frontendAssets = config.FRONTEND_DIST_DIR ? await openFrontendDist(config.FRONTEND_DIST_DIR) : undefined;
      const deps = await buildBffDeps(config, { store: storeFor('bff'), logger, peerAddress: runtime.peerAddress, fetchUpstream: runtime.fetchUpstream, frontendAssets, compressor });
      listeners.push({ name, port: config.BFF_PORT, host: config.HOST, fetch: createBffApp(deps).fetch });
    } else {
      const config = loadCdnConfig(env);
      const store = storeFor('cdn');
      const cache = runtime.openCache
        ? createCacheApiCache({ open: runtime.openCache, retainSeconds: retainSecondsOf(config), ledger: createPurgeLedger({ store, now: Date.now, retainSeconds: retainSecondsOf(config) }) })
        : createMemoryLruCache(config.CDN_CACHE_MAX_BYTES);
      const deps = buildCdnDeps(config, { cache, compressor, logger, peers: runtime.peers, store });
      listeners.push({
        name,
        port: config.CDN_PORT,
        host: config.HOST,
        fetch: createCdnApp(deps).fetch,
        answerHit: createFastHits(deps),
        applyPeerPurge: (target) => applyPeerPurge(deps, target),
      });
    }
  }
  return { listeners, close: async () => void (await Promise.all([...stores.values()].map((store) => store.close()))) };
}
