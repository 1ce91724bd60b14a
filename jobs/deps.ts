import { createLogger, type Logger } from '../common/log.ts';
import type { JobsConfig } from './config.ts';

/** What the jobs service's handlers and schedulers use, built once at start. */
export interface JobsDeps {
  config: JobsConfig;
  logger: Logger;
  now: () => number;
}

export function buildJobsDeps(config: JobsConfig): JobsDeps {
  return { config, logger: createLogger({ service: 'jobs', level: config.LOG_LEVEL }), now: Date.now };
}
