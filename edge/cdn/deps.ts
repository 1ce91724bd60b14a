import { createLogger, type Logger } from '../../common/log.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { EdgeStore } from '../store/store.ts';
import type { CdnConfig } from '../config.ts';
import { createStaleWhileRevalidate } from './cache/stale-while-revalidate.ts';
import type { ObjectCache, PurgeTarget } from './cache/object-cache.ts';
import { createStreamCompressor, type Compressor } from './compression.ts';
import type { CdnDeps, CdnPeers } from './context.ts';
import { createS3Origin, type ReportOrigin } from './s3-origin.ts';
import { createVerifiedLinks } from './verified-links.ts';

/** What a runtime entry (or a test) supplies; the rest is built from config. */
export interface CdnRuntime {
  cache: ObjectCache;
  compressor?: Compressor;
  origin?: ReportOrigin;
  logger?: Logger;
  now?: () => number;
  peers?: CdnPeers;
  /** The edge's shared store (Redis, Durable Objects); a lone in-process CDN may do with its own memory. */
  store?: EdgeStore;
}

/** How long any entry may still be served: the Cache API's max-age and the purge marks' lifetime. */
export function retainSecondsOf(config: CdnConfig): number {
  return config.CDN_FRESH_SECONDS + Math.max(config.CDN_STALE_WHILE_REVALIDATE_SECONDS, config.CDN_STALE_IF_ERROR_SECONDS);
}

export function buildCdnDeps(config: CdnConfig, runtime: CdnRuntime): CdnDeps {
  const logger = runtime.logger ?? createLogger({ service: 'cdn', level: config.LOG_LEVEL });
  const now = runtime.now ?? Date.now;
  const origin =
    runtime.origin ??
    createS3Origin({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      bucket: config.S3_BUCKET,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      timeoutMs: config.CDN_ORIGIN_TIMEOUT_MS,
      maxObjectBytes: config.CDN_MAX_OBJECT_BYTES,
    });
  const reports = createStaleWhileRevalidate({
    cache: runtime.cache,
    origin,
    now,
    logger,
    windows: {
      freshMs: config.CDN_FRESH_SECONDS * 1000,
      staleWhileRevalidateMs: config.CDN_STALE_WHILE_REVALIDATE_SECONDS * 1000,
      staleIfErrorMs: (config.CDN_FRESH_SECONDS + config.CDN_STALE_IF_ERROR_SECONDS) * 1000,
    },
  });
  return {
    config,
    logger,
    now,
    cache: runtime.cache,
    reports,
    origin,
    compressor: runtime.compressor ?? createStreamCompressor(),
    links: createVerifiedLinks(config.CDN_SIGNING_KEY),
    peers: runtime.peers,
    store: runtime.store ?? createMemoryStore(now),
  };
}

/** A purge another worker answered: drop the same entries here (no fan-out again). */
export async function applyPeerPurge(deps: CdnDeps, target: PurgeTarget): Promise<number | null> {
  deps.reports.notePurge();
  return deps.cache.purge(target);
}
