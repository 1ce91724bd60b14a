import { DurableObject } from 'cloudflare:workers';
import { createBffApp } from '../bff/app.ts';
import { buildBffDeps } from '../bff/deps.ts';
import { createCacheApiCache } from '../cdn/cache/cache-api.ts';
import { createPurgeLedger } from '../cdn/cache/purge-ledger.ts';
import { createCdnApp } from '../cdn/app.ts';
import { buildCdnDeps, retainSecondsOf } from '../cdn/deps.ts';
import { createRuntimeEncoding } from '../cdn/compression.ts';
import { loadBffConfig, loadCdnConfig } from '../config.ts';
import type { FrontendAssetReader } from '../bff/frontend-asset-reader.ts';
import { applyStoreOp, createDurableObjectStore, type StoreObjectNamespace, type StoreOp } from '../store/durable-object.ts';

/**
 * workerd adapter (wrangler dev / Cloudflare Workers): one worker per app, chosen by the EDGE_APP
 * var (edge/wrangler.jsonc has an environment for each). Shared state lives in Durable Objects
 * (one per store key) because a worker cannot open Redis connections; report objects go to the
 * Cache API (caches.default); gzip and br (report objects and the built app) are left to workerd's
 * own response encoding.
 */

/** Keeps one key of the edge store; every operation runs to completion before the next. */
export class EdgeStoreObject extends DurableObject {
  async apply(request: StoreOp) {
    return applyStoreOp(this.ctx.storage, request, Date.now());
  }

  /** Set to the slot's expiry by every write; a later write moves it, so only lapsed slots are dropped. */
  async alarm() {
    const slot = await this.ctx.storage.get<{ expiresAtMs: number }>('slot');
    if (!slot || slot.expiresAtMs <= Date.now()) await this.ctx.storage.deleteAll();
  }
}

interface Fetcher {
  fetch(request: Request): Promise<Response>;
}

interface Bindings {
  EDGE_APP?: string;
  EDGE_STORE: StoreObjectNamespace;
  /** Workers Static Assets (frontend/dist), when the bff environment has an `assets` block. */
  ASSETS?: Fetcher;
  [name: string]: unknown;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

type FetchHandler = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;

/** String bindings (vars and secrets) are the config; the rest (the Durable Object namespace) are not. */
function stringBindings(env: Bindings): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/**
 * The built app through the ASSETS binding: 404 is "no such file". Configure the binding with
 * `html_handling: "none"` so a path is a file name and nothing else (no `.html` redirects).
 */
function createAssetsBindingReader(assets: Fetcher): FrontendAssetReader {
  return {
    async read(path) {
      const response = await assets.fetch(new Request(`https://assets.invalid/${path}`));
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`edge (workerd): ASSETS answered ${response.status} for ${path}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

async function build(env: Bindings): Promise<FetchHandler> {
  const vars = stringBindings(env);
  const store = createDurableObjectStore(env.EDGE_STORE);
  if (env.EDGE_APP === 'bff') {
    const config = loadBffConfig(vars);
    const frontendAssets = env.ASSETS ? createAssetsBindingReader(env.ASSETS) : undefined;
    const deps = await buildBffDeps(config, { store, peerAddress: (c) => c.req.header('cf-connecting-ip') ?? undefined, frontendAssets, compressor: createRuntimeEncoding() });
    return createBffApp(deps).fetch as FetchHandler;
  }
  if (env.EDGE_APP === 'cdn') {
    const config = loadCdnConfig(vars);
    const retainSeconds = retainSecondsOf(config);
    const cache = createCacheApiCache({
      open: async () => (caches as unknown as { default: Cache }).default,
      retainSeconds,
      ledger: createPurgeLedger({ store, now: Date.now, retainSeconds }),
    });
    return createCdnApp(buildCdnDeps(config, { cache, compressor: createRuntimeEncoding(), store })).fetch as FetchHandler;
  }
  throw new Error(`edge (workerd): EDGE_APP must be "bff" or "cdn", got ${JSON.stringify(env.EDGE_APP)}`);
}

// Built once per isolate (config parsing, key derivation), on the first request that has the bindings.
let handler: Promise<FetchHandler> | undefined;

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    handler ??= build(env).catch((error: unknown) => {
      handler = undefined;
      throw error;
    });
    return (await handler)(request, env, ctx);
  },
};
