import type { StackEnv } from '../tools/kit/env.ts';

/**
 * What each app is started with, natively (stack/dev.ts) and under compose (the per-app env files
 * `node stack/cli.ts env --write .env` writes): every ordinary setting, but of the secrets only the
 * ones that app's config reads (core/config.ts, jobs/config.ts, edge/config.ts, edge/runtime/apps.ts).
 * An allow-list, so a secret added to the stack later reaches no app until someone names its reader.
 */

/** A variable holding a credential by its name (demo people's DEMO_PASSWORD_*, *_SHA256 hashes included). */
const SECRET_NAME = /PASSWORD|SECRET|_KEY$|_SHA256$/i;
/** A URL with user info (postgres://user:pass@…, redis://user:pass@…) carries its password too. */
const CREDENTIAL_URL = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+@/i;

export function isSecret(name: string, value: string): boolean {
  return SECRET_NAME.test(name) || CREDENTIAL_URL.test(value);
}

/** The secrets each app may hold, after its identity below is applied (its own ClickHouse/Redis user's). */
export const APP_SECRETS: Readonly<Record<string, readonly string[]>> = {
  core: ['TELEMETRY_DATABASE_URL', 'CRM_CORE_DATABASE_URL', 'CLICKHOUSE_PASSWORD', 'REDIS_URL', 'S3_SECRET_ACCESS_KEY', 'CDN_SIGNING_KEY', 'OWNER_REF_KEY', 'DEVICE_SECRET_KEY'],
  jobs: ['TELEMETRY_DATABASE_URL', 'CLICKHOUSE_PASSWORD', 'KAFKA_JOBS_PASSWORD', 'JOBS_CLIENT_SECRET'],
  edge: ['BFF_REDIS_URL', 'CDN_REDIS_URL', 'BFF_CLIENT_SECRET', 'SESSION_ENCRYPTION_KEY', 'CDN_SIGNING_KEY', 'S3_SECRET_ACCESS_KEY'],
  frontend: [],
};

export const APPS = Object.keys(APP_SECRETS);

/**
 * Each service reaches ClickHouse as its own least-privileged user (stack/services/clickhouse.ts):
 * core as the read-only core_reader, jobs (ETL, CDC, retention) as jobs_writer. The stack's own
 * CLICKHOUSE_USER (default) stays with tooling: migrations, demo data, tests.
 */
export function clickHouseIdentity(app: string, env: StackEnv): StackEnv {
  if (app === 'core') return { CLICKHOUSE_USER: env.CLICKHOUSE_CORE_USER!, CLICKHOUSE_PASSWORD: env.CLICKHOUSE_CORE_PASSWORD! };
  if (app === 'jobs') return { CLICKHOUSE_USER: env.CLICKHOUSE_JOBS_USER!, CLICKHOUSE_PASSWORD: env.CLICKHOUSE_JOBS_PASSWORD! };
  return {};
}

/**
 * Each app reaches Redis as its own ACL user (stack/services/redis-acl.ts): core's REDIS_URL is the
 * core user's; the edge reads BFF_REDIS_URL and CDN_REDIS_URL and gets no REDIS_URL to fall back
 * on; jobs uses no Redis. REDIS_URL (the admin) stays with tooling and tests.
 */
export function redisIdentity(app: string, env: StackEnv): StackEnv {
  if (app === 'core') return { REDIS_URL: env.CORE_REDIS_URL! };
  return { REDIS_URL: '' };
}

/**
 * Kafka passwords (stack/services/kafka.ts): jobs keeps only its own (KAFKA_JOBS_PASSWORD), the other
 * apps hold none; the admin's and Connect's stay with tooling and tests.
 */
export function kafkaIdentity(app: string): StackEnv {
  return { KAFKA_ADMIN_PASSWORD: '', KAFKA_CONNECT_PASSWORD: '', ...(app === 'jobs' ? {} : { KAFKA_JOBS_PASSWORD: '' }) };
}

/**
 * The environment `app` is started with: `inherited` (the launching shell's, which may hold the
 * whole stack env after `eval "$(node stack/cli.ts env)"`) and the stack env, with the app's
 * identities applied and every secret that is not the app's dropped. Empty values are dropped too,
 * so a blanked variable is absent rather than set to "".
 */
export function appEnv(app: string, env: StackEnv, inherited: Record<string, string | undefined> = {}): StackEnv {
  const allowed = APP_SECRETS[app];
  if (!allowed) throw new Error(`appEnv: unknown app "${app}" (one of ${APPS.join(', ')})`);
  const merged: Record<string, string | undefined> = { ...inherited, ...env, ...clickHouseIdentity(app, env), ...redisIdentity(app, env), ...kafkaIdentity(app) };
  const out: StackEnv = {};
  for (const [name, value] of Object.entries(merged)) {
    if (value === undefined || value === '') continue;
    if (isSecret(name, value) && !allowed.includes(name)) continue;
    out[name] = value;
  }
  return out;
}
