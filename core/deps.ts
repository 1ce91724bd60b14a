import { createLogger, type Logger } from '../common/log.ts';
import type { CoreConfig } from './config.ts';

/** Everything core's handlers use, built once at start and passed in; handlers touch no globals. */
export interface CoreDeps {
  config: CoreConfig;
  logger: Logger;
  now: () => number;
}

export function buildCoreDeps(config: CoreConfig): CoreDeps {
  return {
    config,
    logger: createLogger({ service: 'core', level: config.LOG_LEVEL }),
    now: Date.now,
  };
}
