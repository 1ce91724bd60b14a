import type { Logger } from '../../common/log.ts';
import type { CdnConfig } from '../config.ts';
import type { ObjectCache } from './cache/object-cache.ts';
import type { StaleWhileRevalidateCache } from './cache/stale-while-revalidate.ts';
import type { Compressor } from './compression.ts';
import type { ReportOrigin } from './s3-origin.ts';

/** Everything the CDN's handlers use; the runtime entry picks the cache and compressor. */
export interface CdnDeps {
  config: CdnConfig;
  logger: Logger;
  now: () => number;
  cache: ObjectCache;
  reports: StaleWhileRevalidateCache;
  /** The bucket itself, for the readiness probe; reads go through `reports`. */
  origin: ReportOrigin;
  compressor: Compressor;
}

export type CdnEnv = { Variables: { requestId: string } };
