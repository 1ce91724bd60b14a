import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCoreConfig } from '../../core/config.ts';
import { loadBffConfig, loadCdnConfig } from '../../edge/config.ts';
import { edgeRedisUrls } from '../../edge/runtime/apps.ts';
import { loadJobsConfig } from '../../jobs/config.ts';
import { appEnv, isSecret } from '../../stack/app-env.ts';
import { writeEnvFiles } from '../../stack/env-files.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { REDIS_ACL_USERS } from '../../stack/services/redis-acl.ts';

/**
 * Review finding (HIGH): `npm run dev` spread the whole stack env into every app, so each held the
 * Redis admin password and the other clients' Redis passwords and URLs. Each app now gets an
 * allow-list of secrets (stack/app-env.ts), natively and, through the per-app env files, under compose.
 */
const env = loadStackEnv();
const secrets = Object.entries(env).filter(([name, value]) => isSecret(name, value));
/** The launching shell after `eval "$(node stack/cli.ts env)"`: it must not leak through either. */
const shell = { ...env, PATH: '/usr/bin', HOME: '/home/dev' };

describe('each app holds only its own secrets (stack/app-env.ts)', () => {
  test('no app holds an admin credential, the Redis hashes, or another client\'s Redis password', () => {
    for (const app of ['core', 'jobs', 'edge', 'frontend']) {
      const started = appEnv(app, env, shell);
      for (const name of ['REDIS_ADMIN_PASSWORD', 'KAFKA_ADMIN_PASSWORD', 'KAFKA_CONNECT_PASSWORD', 'CLICKHOUSE_JOBS_PASSWORD', 'KEYCLOAK_ADMIN_PASSWORD', 'LDAP_RU_ADMIN_PASSWORD', 'CRM_DATABASE_URL', 'DEMO_USER_PASSWORD']) {
        expect(started[name], `${app}: ${name}`).toBeUndefined();
      }
      for (const user of REDIS_ACL_USERS) {
        expect(started[user.passwordVariable], `${app}: ${user.passwordVariable}`).toBeUndefined();
        expect(started[`${user.passwordVariable}_SHA256`], `${app}: hash`).toBeUndefined();
      }
      // No value anywhere in the app's env is another principal's password (whatever it is named).
      const values = Object.values(started).join('\n');
      for (const name of ['REDIS_ADMIN_PASSWORD', 'KAFKA_ADMIN_PASSWORD', 'CLICKHOUSE_PASSWORD', 'CRM_DB_PASSWORD']) expect(values, `${app}: value of ${name}`).not.toContain(env[name]!);
      expect(started.PATH).toBe('/usr/bin');
    }
  });

  test('Redis: core holds only the core user\'s URL as REDIS_URL; the edge only the BFF and CDN users\'; jobs and frontend none', () => {
    const core = appEnv('core', env, shell);
    expect(core.REDIS_URL).toBe(env.CORE_REDIS_URL!);
    expect(core.BFF_REDIS_URL).toBeUndefined();
    expect(core.CDN_REDIS_URL).toBeUndefined();
    const edge = appEnv('edge', env, shell);
    expect(edge.REDIS_URL).toBeUndefined();
    expect(edge.CORE_REDIS_URL).toBeUndefined();
    expect(edge.BFF_REDIS_URL).toBe(env.BFF_REDIS_URL!);
    expect(edge.CDN_REDIS_URL).toBe(env.CDN_REDIS_URL!);
    for (const app of ['jobs', 'frontend']) expect(Object.keys(appEnv(app, env, shell)).filter((name) => name.includes('REDIS'))).toEqual([]);
  });

  test('OWNER_REF_KEY only in core; KAFKA_JOBS_PASSWORD only in jobs; the frontend holds no secret at all', () => {
    for (const app of ['jobs', 'edge', 'frontend']) expect(appEnv(app, env, shell).OWNER_REF_KEY).toBeUndefined();
    expect(appEnv('core', env, shell).OWNER_REF_KEY).toBe(env.OWNER_REF_KEY!);
    for (const app of ['core', 'edge', 'frontend']) expect(appEnv(app, env, shell).KAFKA_JOBS_PASSWORD).toBeUndefined();
    expect(appEnv('jobs', env, shell).KAFKA_JOBS_PASSWORD).toBe(env.KAFKA_JOBS_PASSWORD!);
    const frontend = appEnv('frontend', env, shell);
    expect(Object.entries(frontend).filter(([name, value]) => isSecret(name, value))).toEqual([]);
    expect(secrets.length).toBeGreaterThan(20);
  });

  test('what is kept is enough: every app\'s own config loader accepts its env', () => {
    expect(() => loadCoreConfig(appEnv('core', env))).not.toThrow();
    expect(() => loadJobsConfig(appEnv('jobs', env))).not.toThrow();
    expect(() => loadBffConfig(appEnv('edge', env))).not.toThrow();
    expect(() => loadCdnConfig(appEnv('edge', env))).not.toThrow();
    expect(() => edgeRedisUrls(appEnv('edge', env), ['bff', 'cdn'])).not.toThrow();
    expect(appEnv('core', env).CLICKHOUSE_USER).toBe(env.CLICKHOUSE_CORE_USER!);
    expect(appEnv('jobs', env).CLICKHOUSE_USER).toBe(env.CLICKHOUSE_JOBS_USER!);
  });

  test('an unknown app is refused rather than handed everything', () => {
    expect(() => appEnv('crm-admin', env)).toThrow(/unknown app/);
  });
});

describe('`node stack/cli.ts env --write .env` (compose): 0600 files, one per app with its allow-list', () => {
  const dir = mkdtempSync(join(tmpdir(), 'env-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes .env and .env.<app>, all readable by the owner only', () => {
    const file = join(dir, '.env');
    const written = writeEnvFiles(file, env);
    expect(written).toEqual([file, `${file}.core`, `${file}.jobs`, `${file}.edge`, `${file}.frontend`]);
    for (const path of written) expect(statSync(path).mode & 0o777).toBe(0o600);
    const parse = (path: string) => Object.fromEntries(readFileSync(path, 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(parse(file).REDIS_ADMIN_PASSWORD).toBe(env.REDIS_ADMIN_PASSWORD!);
    for (const app of ['core', 'jobs', 'edge', 'frontend']) expect(parse(`${file}.${app}`)).toEqual(appEnv(app, env));
  });

  test('no file name: a clear error', () => {
    expect(() => writeEnvFiles('', env)).toThrow(/name the file/);
  });
});
