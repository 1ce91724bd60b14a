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
/** An integer within [min, max]: timeouts, sizes, counts. */
export const intField = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
/** A comma-separated list; blanks are dropped. */
export const csvField = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
export const httpUrlField = z.url({ protocol: /^https?$/ });
/** A generated secret (key, client secret); short values are refused as a likely mistake. */
export const secretField = z.string().min(16, 'must be at least 16 characters (a generated secret)');
export const postgresUrlField = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
export const s3BucketField = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');
export const realmNameField = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a realm name');

/** Where and as whom core and jobs reach ClickHouse (each sets its own CLICKHOUSE_TIMEOUT_MS). */
export const clickHouseFields = {
  CLICKHOUSE_URL: httpUrlField,
  CLICKHOUSE_USER: z.string().min(1),
  CLICKHOUSE_PASSWORD: z.string().min(1),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a plain identifier'),
};
