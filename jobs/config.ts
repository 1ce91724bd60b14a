import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import { booleanField, hostField, logLevelField, portField } from '../common/config-fields.ts';

export const JobsConfigSchema = z.object({
  PORT: portField(8081),
  HOST: hostField,
  LOG_LEVEL: logLevelField,
  TRUST_REQUEST_ID: booleanField(true),
});
export type JobsConfig = z.output<typeof JobsConfigSchema>;

export function loadJobsConfig(env: Record<string, string | undefined>): JobsConfig {
  return parseConfig('jobs', JobsConfigSchema, env);
}
