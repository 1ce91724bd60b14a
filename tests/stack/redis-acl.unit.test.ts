import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redisIdentity } from '../../stack/dev.ts';
import { passwordHashVariable, REDIS_ACL_USERS, redisAclLines, redisClientEnv, redisUserRules } from '../../stack/services/redis-acl.ts';
import { sha256Hex } from '../../tools/kit/hash.ts';
import { renderRedisConfig } from '../../stack/services/redis.ts';
import { ROOT } from '../../tools/kit/paths.ts';

const compose = Bun.YAML.parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; env_file?: string[]; healthcheck?: { test: string[] } }>;
};
const passwords = Object.fromEntries(REDIS_ACL_USERS.map((user) => [user.passwordVariable, `pw-${user.name}`]));

/** compose's redis command split at each `--user`: one rule string per user. */
function composeUserRules(): string[] {
  const command = compose.services.redis!.command!;
  const rules: string[][] = [];
  for (const arg of command.slice(command.indexOf('--user'))) {
    if (arg === '--user') rules.push([]);
    else rules.at(-1)!.push(arg);
  }
  return rules.map((tokens) => tokens.join(' '));
}

describe('redis ACL users: one set of rules for both stacks', () => {
  test('compose.yaml passes exactly the native rules, with each password hash from .env', () => {
    const expected = redisUserRules((user) => `\${${passwordHashVariable(user)}:?run \`node stack/cli.ts env > .env\` first}`.replace('env > .env', 'env --write .env'));
    expect(composeUserRules()).toEqual(expected);
    // Nothing before the users may weaken them (e.g. a --requirepass or --protected-mode no).
    expect(compose.services.redis!.command!.slice(0, compose.services.redis!.command!.indexOf('--user')).join(' ')).not.toMatch(/requirepass|protected-mode|aclfile|user/);
    expect(compose.services.redis!.healthcheck!.test).toContain('default');
  });

  test('the rendered native config holds the same users, hashes only, the default user password-protected', () => {
    const rendered = renderRedisConfig('/tmp/x', 6390, redisAclLines(passwords));
    const userLines = rendered.split('\n').filter((line) => line.startsWith('user '));
    expect(userLines).toEqual(redisUserRules((user) => sha256Hex(`pw-${user.name}`)).map((rule) => `user ${rule}`));
    expect(userLines[0]).toMatch(/^user default on resetpass #[0-9a-f]{64} /);
    expect(rendered).not.toMatch(/nopass/);
    for (const password of Object.values(passwords)) expect(rendered).not.toContain(password);
    expect(() => redisAclLines({})).toThrow(/REDIS_ADMIN_PASSWORD is not set/);
  });

  test('service users start from nothing: no @all, no dangerous command, keys of their own only', () => {
    for (const user of REDIS_ACL_USERS.filter((u) => u.name !== 'default')) {
      const tokens = user.rules.split(' ');
      expect(tokens[0]).toBe('-@all');
      expect(tokens.filter((t) => t.startsWith('+@'))).toEqual([]);
      expect(tokens.filter((t) => /^\+(flushall|flushdb|config|keys|scan|acl|debug|shutdown|module|script|monitor|cluster|replicaof|save|bgsave)/i.test(t))).toEqual([]);
      expect(tokens.filter((t) => t === '~*' || t === '&*' || t === 'allkeys' || t === 'allchannels')).toEqual([]);
    }
    const keysOf = (name: string) => REDIS_ACL_USERS.find((u) => u.name === name)!.rules.split(' ').filter((t) => t.startsWith('~'));
    expect(keysOf('cdn').some((k) => k.includes('session'))).toBe(false);
    expect(keysOf('bff').some((k) => k.includes('cdn'))).toBe(false);
    expect(keysOf('core').every((k) => k.startsWith('~core:'))).toBe(true);
  });

  test('client URLs: one user each from the generated passwords; a credential-less REDIS_URL gets the admin', () => {
    const env = { ...passwords, REDIS_URL: 'redis://127.0.0.1:6390' };
    const urls = redisClientEnv(env, {});
    expect(urls.REDIS_URL).toBe('redis://default:pw-default@127.0.0.1:6390');
    expect(urls.BFF_REDIS_URL).toBe('redis://bff:pw-bff@127.0.0.1:6390');
    expect(urls.CDN_REDIS_URL).toBe('redis://cdn:pw-cdn@127.0.0.1:6390');
    expect(urls.CORE_REDIS_URL).toBe('redis://core:pw-core@127.0.0.1:6390');
    expect(urls.REDIS_BFF_PASSWORD_SHA256).toBe(sha256Hex('pw-bff'));
    expect(redisClientEnv(env, { BFF_REDIS_URL: 'redis://other:x@10.0.0.1:6379' }).BFF_REDIS_URL).toBe('redis://other:x@10.0.0.1:6379');
  });

  test('dev and compose give each app its own Redis identity and the edge no admin fallback', () => {
    const env = { ...passwords, ...redisClientEnv({ ...passwords, REDIS_URL: 'redis://127.0.0.1:6379' }, {}) };
    expect(redisIdentity('core', env)).toEqual({ REDIS_URL: env.CORE_REDIS_URL! });
    for (const app of ['edge', 'jobs', 'frontend']) expect(redisIdentity(app, env)).toEqual({ REDIS_URL: '' });
    // Compose hands the same appEnv() through the per-app env files (tests/stack/app-env.unit.test.ts).
    for (const app of ['core', 'jobs', 'edge']) expect(compose.services[app]!.env_file).toEqual([`.env.${app}`]);
  });
});
