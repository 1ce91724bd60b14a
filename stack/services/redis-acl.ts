import { sha256Hex } from '../../tools/kit/hash.ts';

/**
 * Redis ACL users, one per client, each allowed only the commands and keys its code uses (issue 9:
 * a password-less Redis let any local process read sessions or FLUSHALL). The native stack writes
 * these rules into the config file it renders (stack/services/redis.ts), compose.yaml passes the
 * same rules as `--user` arguments (tests/stack/redis-acl.unit.test.ts keeps the two equal), and
 * stack/lib/env.ts turns the generated passwords into each client's URL.
 *
 * Passwords reach Redis only as SHA-256 hashes (`#<hex>`), so neither the rendered config nor a
 * container's command line holds one in clear.
 *
 * Every service user starts from `resetkeys resetchannels -@all`, then gets:
 * - `+info`: ioredis's ready check (INFO) runs on every (re)connect; without it the client never
 *   becomes ready. INFO shows server statistics, no keys or values.
 * - `+ping`: health checks.
 * AUTH and HELLO need no permission.
 */

export interface RedisAclUser {
  name: string;
  /** The generated secret (.stack/stack.env) holding this user's password. */
  passwordVariable: string;
  /** The stack env variable holding this user's redis:// URL. */
  urlVariable: string;
  /** ACL rules after the password: commands, key patterns, channels. */
  rules: string;
  /** Who connects as this user, for the docs and the tests. */
  usedBy: string;
}

const CONNECTION = '+info +ping';

/**
 * edge/runtime/redis-store.ts: plain commands plus its four Lua scripts (EVALSHA, EVAL on a cold
 * script cache); Redis checks every redis.call inside a script against the same user, so a script
 * cannot reach past these rules either.
 */
const EDGE_STORE_COMMANDS = '+get +set +getdel +del +sadd +srem +smembers +incr +expire +ttl +evalsha +eval';

export const REDIS_ACL_USERS: readonly RedisAclUser[] = [
  {
    // The administrator is Redis' own `default` user, password-protected (no `nopass`), so a
    // connection that has not sent AUTH is refused everything (NOAUTH). It cannot be switched off
    // instead: Redis 7.0 replays the AOF's MULTI/EXEC blocks (scripts and transactions are written
    // as such) as `default`, and with `default off -@all` every one of them was refused at load —
    // seen here after a SIGKILL: session index sets, rate windows and core's version counters gone.
    name: 'default',
    passwordVariable: 'REDIS_ADMIN_PASSWORD',
    urlVariable: 'REDIS_URL',
    rules: '~* &* +@all',
    usedBy: 'the stack tooling and tests (REDIS_URL, the shared contract); no app',
  },
  {
    name: 'bff',
    passwordVariable: 'REDIS_BFF_PASSWORD',
    urlVariable: 'BFF_REDIS_URL',
    // edge/store/store.ts storeKeys, the BFF's part: login attempts, sessions and their indexes,
    // back-channel logout ids, refresh locks, rate-limit windows; plus the readiness probe key.
    rules: [
      '-@all',
      EDGE_STORE_COMMANDS,
      CONNECTION,
      ...['login:*', 'session:*', 'user-sessions:*', 'sso-sessions:*', 'subject-sessions:*', 'logout-jti:*', 'refresh-lock:*', 'rate:*', 'health:probe'].map((key) => `~edge:${key}`),
    ].join(' '),
    usedBy: 'the edge BFF (edge/runtime/apps.ts, BFF_REDIS_URL)',
  },
  {
    name: 'cdn',
    passwordVariable: 'REDIS_CDN_PASSWORD',
    urlVariable: 'CDN_REDIS_URL',
    // Purge nonces (setIfAbsent) and the Cache API's purge marks (get, setIfAbsent, compareAndSet).
    rules: ['-@all', '+get +set +evalsha +eval', CONNECTION, '~edge:cdn-purges ~edge:cdn-purge-nonce:* ~edge:health:probe'].join(' '),
    usedBy: 'the CDN edge (edge/runtime/apps.ts, CDN_REDIS_URL)',
  },
  {
    name: 'core',
    passwordVariable: 'REDIS_CORE_PASSWORD',
    urlVariable: 'CORE_REDIS_URL',
    // core/reports/report-versions.ts: MGET of the version counters, MULTI/INCR/EXPIRE/PUBLISH to
    // bump them, SUBSCRIBE on its channel; connections are named (CLIENT SETNAME).
    rules: ['-@all', '+mget +incr +expire +multi +exec +discard +publish +subscribe +unsubscribe +client|setname', CONNECTION, '~core:reports:version:* &core:reports:invalidate'].join(' '),
    usedBy: 'core, report cache versions (REDIS_URL of the core process: stack/dev.ts, compose.yaml)',
  },
];

export const REDIS_PASSWORD_VARIABLES = REDIS_ACL_USERS.map((user) => user.passwordVariable);


/** The `user` directives (config file lines, or `--user` argument values without the keyword). */
export function redisUserRules(passwordHashOf: (user: RedisAclUser) => string): string[] {
  // `resetpass` first: whatever password (or `nopass`) a user had is dropped before the hash is set.
  return REDIS_ACL_USERS.map((user) => `${user.name} on resetpass #${passwordHashOf(user)} resetkeys resetchannels ${user.rules}`);
}

/** The directives with this machine's password hashes, for the rendered config file. */
export function redisAclLines(env: Record<string, string | undefined>): string[] {
  return redisUserRules((user) => {
    const password = env[user.passwordVariable];
    if (!password) throw new Error(`redis: ${user.passwordVariable} is not set (generated into .stack/stack.env by stack/lib/env.ts)`);
    return sha256Hex(password);
  }).map((rule) => `user ${rule}`);
}

/** The stack env variable compose.yaml reads a user's hash from. */
export const passwordHashVariable = (user: RedisAclUser) => `${user.passwordVariable}_SHA256`;

/**
 * Every user's URL and password hash, from the generated passwords and the host and port of the
 * stack's REDIS_URL. A URL already set in the process environment wins (as for every stack
 * setting); REDIS_URL without credentials (an older shell's) gets the admin's.
 */
export function redisClientEnv(env: Record<string, string>, processEnv: Record<string, string | undefined>): Record<string, string> {
  const base = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const out: Record<string, string> = {};
  for (const user of REDIS_ACL_USERS) {
    const password = env[user.passwordVariable]!;
    out[passwordHashVariable(user)] = sha256Hex(password);
    const explicit = processEnv[user.urlVariable];
    if (explicit && new URL(explicit).username) {
      out[user.urlVariable] = explicit;
      continue;
    }
    const url = new URL(`${base.protocol}//${base.host}`);
    url.username = user.name;
    url.password = password;
    out[user.urlVariable] = url.toString().replace(/\/$/, '');
  }
  return out;
}
