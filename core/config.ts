import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import { booleanField, hostField, logLevelField, portField } from '../common/config-fields.ts';

export const CoreConfigSchema = z.object({
  PORT: portField(8001),
  HOST: hostField,
  LOG_LEVEL: logLevelField,
  /** Core sits behind the edge, which mints request ids; accept them so one id spans both logs. */
  TRUST_REQUEST_ID: booleanField(true),
});
export type CoreConfig = z.output<typeof CoreConfigSchema>;

export function loadCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseConfig('core', CoreConfigSchema, env);
}
