import { z } from 'zod';
import { parseConfig } from '../common/config.ts';
import { hostField, logLevelField, portField } from '../common/config-fields.ts';

/**
 * Edge config, parsed from whatever record the runtime hands over (process.env under Node/Bun,
 * bindings under workerd). Portable: no runtime globals here.
 */
export const EdgeConfigSchema = z.object({
  BFF_PORT: portField(8000),
  CDN_PORT: portField(8002),
  HOST: hostField,
  LOG_LEVEL: logLevelField,
});
export type EdgeConfig = z.output<typeof EdgeConfigSchema>;

export function loadEdgeConfig(env: Record<string, string | undefined>): EdgeConfig {
  return parseConfig('edge', EdgeConfigSchema, env);
}
