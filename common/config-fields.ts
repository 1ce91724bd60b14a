import { z } from 'zod';

/** Env fields every service shares. Env values are strings; these coerce and bound them. */
export const portField = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
export const hostField = z.string().min(1).default('127.0.0.1');
export const logLevelField = z.enum(['debug', 'info', 'warn', 'error']).default('info');
export const booleanField = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');
