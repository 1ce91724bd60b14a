import type { Context } from 'hono';
import { createLogger, type Logger } from '../../common/log.ts';
import { createStreamCompressor, type Compressor } from '../cdn/compression.ts';
import type { BffConfig } from '../config.ts';
import { clientAddressOf } from '../security/rate-limit.ts';
import type { EdgeStore } from '../store/store.ts';
import type { BffDeps, UpstreamFetch } from './context.ts';
import type { FrontendAssetReader } from './frontend-asset-reader.ts';
import { createKeycloakProvider, type IdentityProvider } from './keycloak.ts';
import { createTokenRefresher } from './session/refresh.ts';
import { webRandomBytes, type RandomBytes } from './session/session-token.ts';
import { createSessionService } from './session/sessions.ts';
import { createTokenVault } from './session/token-vault.ts';

/** What a runtime entry (or a test) must supply; the rest is built from config. */
export interface BffRuntime {
  store: EdgeStore;
  /** The connection's peer address, the runtime's own way. */
  peerAddress?: (c: Context) => string | undefined;
  fetchUpstream?: UpstreamFetch;
  logger?: Logger;
  now?: () => number;
  random?: RandomBytes;
  idp?: IdentityProvider;
  /** Files of the built app, read the runtime's way (node:fs, the workerd ASSETS binding). */
  frontendAssets?: FrontendAssetReader;
  /** Like the CDN's: node:zlib (br, gzip) on servers, runtime encoding on workerd; default gzip by CompressionStream. */
  compressor?: Compressor;
}

export async function buildBffDeps(config: BffConfig, runtime: BffRuntime): Promise<BffDeps> {
  const logger = runtime.logger ?? createLogger({ service: 'bff', level: config.LOG_LEVEL });
  const now = runtime.now ?? Date.now;
  const random = runtime.random ?? webRandomBytes;
  const idp = runtime.idp ?? createKeycloakProvider({ config, now });
  const sessions = createSessionService({
    store: runtime.store,
    vault: await createTokenVault(config.SESSION_ENCRYPTION_KEY),
    now,
    random,
    idleTimeoutSeconds: config.SESSION_IDLE_TIMEOUT_SECONDS,
    absoluteLifetimeSeconds: config.SESSION_ABSOLUTE_LIFETIME_SECONDS,
  });
  const refresher = createTokenRefresher({ store: runtime.store, sessions, idp, logger, now, random, skewSeconds: config.ACCESS_TOKEN_REFRESH_SKEW_SECONDS });
  return {
    config,
    logger,
    now,
    random,
    store: runtime.store,
    idp,
    sessions,
    refresher,
    fetchUpstream: runtime.fetchUpstream ?? ((url, init) => fetch(url, init)),
    clientAddress: clientAddressOf(config.TRUST_FORWARDED_FOR, runtime.peerAddress ?? (() => undefined)),
    frontendAssets: runtime.frontendAssets,
    compressor: runtime.compressor ?? createStreamCompressor(),
  };
}
