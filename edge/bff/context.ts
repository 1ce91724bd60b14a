import type { Context } from 'hono';
import type { ServiceEnvWith } from '../../common/http/service-env.ts';
import type { Logger } from '../../common/log.ts';
import type { Compressor } from '../cdn/compression.ts';
import type { BffConfig } from '../config.ts';
import type { EdgeStore } from '../store/store.ts';
import type { FrontendAssetReader } from './frontend-asset-reader.ts';
import type { IdentityProvider } from './keycloak.ts';
import type { RandomBytes } from './session/session-token.ts';
import type { LoadedSession, SessionService } from './session/sessions.ts';
import type { TokenRefresher } from './session/refresh.ts';

export type UpstreamFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Everything the BFF's handlers use; built once by the runtime entry (or a test) and passed in. */
export interface BffDeps {
  config: BffConfig;
  logger: Logger;
  now: () => number;
  random: RandomBytes;
  store: EdgeStore;
  idp: IdentityProvider;
  sessions: SessionService;
  refresher: TokenRefresher;
  /** How the BFF reaches core; a test may point it elsewhere, runtimes pass the global fetch. */
  fetchUpstream: UpstreamFetch;
  /** The peer address for rate limits (each runtime knows its own way to find it). */
  clientAddress: (c: Context) => string | undefined;
  /** The built app (frontend/dist) when this BFF serves it; absent, it serves no static files. */
  frontendAssets?: FrontendAssetReader;
  /** br/gzip for the built app's text files: node:zlib on servers, workerd's own response encoding there. */
  compressor: Compressor;
}

export type BffEnv = ServiceEnvWith<{
  session: LoadedSession | undefined;
  /** An /api request's body, read (bounded) once before the session checks (bff/api-proxy.ts). */
  apiBody: Uint8Array | undefined;
}>;
