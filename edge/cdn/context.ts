import type { ServiceEnv } from '../../common/http/service-env.ts';
import type { Logger } from '../../common/log.ts';
import type { EdgeStore } from '../store/store.ts';
import type { CdnConfig } from '../config.ts';
import type { ObjectCache, PurgeTarget } from './cache/object-cache.ts';
import type { StaleWhileRevalidateCache } from './cache/stale-while-revalidate.ts';
import type { Compressor } from './compression.ts';
import type { ReportOrigin } from './s3-origin.ts';
import type { VerifiedLinks } from './verified-links.ts';

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
  /** Report links already verified, until they expire (shared by the full route and the fast path). */
  links: VerifiedLinks;
  /** Where purge nonces are claimed; shared by every process of the edge so a replay fails on any. */
  store: EdgeStore;
  /**
   * Other processes serving the same cache role (cluster workers of one Node/Bun edge): a purge
   * answered here resolves only once each of them has dropped the entries too.
   */
  peers?: CdnPeers;
}

export interface CdnPeers {
  purge(target: PurgeTarget): Promise<void>;
}

/** The CDN adds nothing to the shared variables (request id, wide event). */
export type CdnEnv = ServiceEnv;
