import { createLogger, type Logger } from '../common/log.ts';
import type { EdgeConfig } from './config.ts';

/** What the edge apps use; runtime adapters (edge/runtime/) build it and may swap implementations. */
export interface EdgeDeps {
  config: EdgeConfig;
  logger: Logger;
  now: () => number;
}

export function buildEdgeDeps(config: EdgeConfig, service: string): EdgeDeps {
  return { config, logger: createLogger({ service, level: config.LOG_LEVEL }), now: Date.now };
}
