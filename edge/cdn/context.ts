import type { Logger } from '../../common/log.ts';
import type { CdnConfig } from '../config.ts';
import type { ObjectCache } from './cache/object-cache.ts';
import type { StaleWhileRevalidateCache } from './cache/stale-while-revalidate.ts';
import type { Compressor } from './compression.ts';

/** Everything the CDN's handlers use; the runtime entry picks the cache and compressor. */
export interface CdnDeps {
  config: CdnConfig;
  logger: Logger;
  now: () => number;
  cache: ObjectCache;
  reports: StaleWhileRevalidateCache;
  compressor: Compressor;
}

export type CdnEnv = { Variables: { requestId: string } };
