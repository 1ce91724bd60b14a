import { afterAll, describe, expect, test } from 'bun:test';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_ACL_USERS, redisAclLines } from '../../stack/services/redis-acl.ts';
import { pingRedis, reconcileRedisAcl, redisAuthAnswer, renderRedisConfig } from '../../stack/services/redis.ts';
import { freePort } from '../helpers/free-port.ts';
import { killHard, startRedisServer } from '../helpers/private-redis.ts';

/**
 * Review finding: the ACL users were applied only to a password-less server, so a rule or password
 * changed later never reached a running one. Provisioning (reconcileRedisAcl) now signs in as the
 * admin and makes the users exactly the current rules. A private redis-server on a free port: the
 * shared one is not touched.
 */
const started: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'redis-reconcile-'));
afterAll(async () => {
  for (const child of started) await killHard(child);
  rmSync(dir, { recursive: true, force: true });
});

/** Every user's password, `suffix` making a generation of them; REDIS_URL is the admin's on `port`. */
function envOf(port: number, suffix: string, adminPassword = `admin-${suffix}`): Record<string, string> {
  const env: Record<string, string> = { REDIS_URL: `redis://default:${adminPassword}@127.0.0.1:${port}` };
  for (const user of REDIS_ACL_USERS) env[user.passwordVariable] = user.name === 'default' ? adminPassword : `${user.name}-${suffix}`;
  return env;
}

const signsIn = async (port: number, user: string, password: string) => (await redisAuthAnswer('127.0.0.1', port, { user, password })) === '+OK';

describe('Redis ACL users are reconciled on a running server (stack/services/redis.ts provision)', () => {
  test('changed passwords and rules are applied, users the rules do not name are removed; a second run changes nothing', async () => {
    const port = await freePort();
    const old = envOf(port, 'v1');
    const configFile = join(dir, 'reconcile.conf');
    // Started with yesterday's passwords and one user the rules no longer have.
    writeFileSync(configFile, renderRedisConfig(dir, port, [...redisAclLines(old), 'user retired on >retired-pw ~* +@all']).replace(/^appendonly yes$/m, 'appendonly no'));
    await startRedisServer({ configFile, port, cwd: dir, started, credentials: { user: 'default', password: 'admin-v1' } });
    expect(await signsIn(port, 'retired', 'retired-pw')).toBe(true);

    // Same admin password, new passwords for the service users.
    const current = { ...envOf(port, 'v2', 'admin-v1') };
    await reconcileRedisAcl(current);
    expect(await signsIn(port, 'retired', 'retired-pw')).toBe(false);
    for (const user of REDIS_ACL_USERS.filter((u) => u.name !== 'default')) {
      expect(await signsIn(port, user.name, `${user.name}-v2`), user.name).toBe(true);
      expect(await signsIn(port, user.name, `${user.name}-v1`), user.name).toBe(false);
    }
    expect(await pingRedis('127.0.0.1', port, 1000)).toBe(false);
    await reconcileRedisAcl(current);
    expect(await signsIn(port, 'bff', 'bff-v2')).toBe(true);
    expect(await pingRedis('127.0.0.1', port, 1000, { user: 'default', password: 'admin-v1' })).toBe(true);

  }, 30_000);

  test('an admin password the server no longer takes: a clear error naming REDIS_ADMIN_PASSWORD, nothing changed', async () => {
    const port = await freePort();
    const configFile = join(dir, 'wrongpass.conf');
    writeFileSync(configFile, renderRedisConfig(dir, port, redisAclLines(envOf(port, 'v1'))).replace(/^appendonly yes$/m, 'appendonly no'));
    await startRedisServer({ configFile, port, cwd: dir, started, credentials: { user: 'default', password: 'admin-v1' } });
    await expect(reconcileRedisAcl(envOf(port, 'v2'))).rejects.toThrow(/REDIS_ADMIN_PASSWORD .*no longer matches/);
    expect(await signsIn(port, 'bff', 'bff-v1')).toBe(true);
  }, 30_000);

  test('a server that is not there: an error saying so, not a credential complaint', async () => {
    const port = await freePort();
    await expect(reconcileRedisAcl(envOf(port, 'v1'))).rejects.toThrow(/answered nothing/);
  });
});
