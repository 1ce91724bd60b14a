import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { DependencyUnavailable } from '../dependency.ts';

/**
 * Per-user cache versions shared by every core replica, so an invalidation by jobs or an admin
 * on any replica drops the in-process copies on all of them.
 *
 * A version token is `<global>:<user>` (two counters in Redis). A copy held in memory is served
 * only while its token equals the current one. How "current" is known:
 * - subscribed (the normal case): every bump is published on one channel; each replica keeps the
 *   tokens it fetched and forgets a user's token when a message names them, so the warm path
 *   asks Redis nothing (measured: one MGET per request cost ~25 % of the warm path's throughput
 *   at c=32 and ~0.1 ms at c=1, see docs/core.md);
 * - subscription down (reconnecting, or not yet confirmed): messages may be missed, so every
 *   lookup asks Redis (one MGET) and nothing is remembered until the subscription is back;
 * - Redis unreachable: the token is unknown and the memory level is skipped (S3 serves, as it
 *   did before the memory level existed). Nothing stale is ever served to save a round trip.
 */
export interface ReportVersions {
  /** The user's current token, or undefined when it cannot be known (the memory level is then skipped). */
  current(userId: string): Promise<string | undefined>;
  /** Bumps the versions of the users (or everyone) and tells every replica. Throws DependencyUnavailable('redis'). */
  bump(scope: readonly string[] | 'all'): Promise<void>;
  /** True while invalidation messages are being received (tokens may be remembered). */
  isSubscribed(): boolean;
  close(): Promise<void>;
}

/** Without Redis no replica can learn of another's invalidation: the memory level stays off. */
export const noReportVersions: ReportVersions = {
  current: async () => undefined,
  bump: async () => {},
  isSubscribed: () => false,
  close: async () => {},
};

const CHANNEL = 'core:reports:invalidate';
const ALL_KEY = 'core:reports:version:*';
/** The Redis key of a user's counter (exported for tests that play a missed message). */
export const userVersionKey = (userId: string) => `core:reports:version:u:${userId}`;
const userKey = userVersionKey;
/** A version key outlives every memory copy that could carry its token (see MEMORY_TTL_MS in report-cache.ts). */
const VERSION_TTL_SECONDS = 7 * 86_400;

export interface RedisReportVersionsOptions {
  url: string;
  commandTimeoutMs?: number;
  /**
   * `pubsub` (default): remember tokens while subscribed. `per-request`: ask Redis on every read
   * (for a Redis whose proxy offers no pub/sub; also how the two were measured against each other).
   */
  check?: 'pubsub' | 'per-request';
  /** Client name in Redis (CLIENT LIST), `<name>` and `<name>:sub`, so an operator sees whose connections they are. */
  name?: string;
  /** How many users' tokens a replica remembers while subscribed. */
  maxRememberedUsers?: number;
  onStateChange?: (state: 'subscribed' | 'unsubscribed') => void;
}

export function createRedisReportVersions(options: RedisReportVersionsOptions): ReportVersions {
  const common = {
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    // A command while disconnected fails at once (the memory level is skipped) instead of queueing.
    enableOfflineQueue: false,
  };
  const name = options.name ?? 'core-reports';
  const redis = new Redis(options.url, { ...common, connectionName: name, commandTimeout: options.commandTimeoutMs ?? 500, enableAutoPipelining: true });
  const subscriber = new Redis(options.url, { ...common, connectionName: `${name}:sub`, lazyConnect: options.check === 'per-request' });
  // ioredis reconnects by itself; an unhandled 'error' event would otherwise end the process.
  redis.on('error', () => {});
  subscriber.on('error', () => {});

  const known = new LRUCache<string, string>({ max: options.maxRememberedUsers ?? 100_000 });
  let subscribed = false;
  /** Bumped on every message and state change, so a token fetched across one is not remembered. */
  let epoch = 0;

  const setSubscribed = (value: boolean) => {
    epoch++;
    known.clear();
    if (subscribed !== value) {
      subscribed = value;
      options.onStateChange?.(value ? 'subscribed' : 'unsubscribed');
    }
  };
  subscriber.on('message', (_channel: string, message: string) => {
    epoch++;
    if (message === '*') {
      known.clear();
      return;
    }
    try {
      for (const user of JSON.parse(message) as string[]) known.delete(user);
    } catch {
      known.clear();
    }
  });
  for (const event of ['close', 'end', 'reconnecting', 'error']) subscriber.on(event, () => setSubscribed(false));
  // Confirmed subscription (again, after a reconnect): what was missed meanwhile is forgotten.
  const subscribe = () =>
    subscriber.subscribe(CHANNEL).then(
      () => setSubscribed(true),
      () => setSubscribed(false),
    );
  if (options.check !== 'per-request') subscriber.on('ready', () => void subscribe());

  return {
    async current(userId) {
      if (subscribed) {
        const token = known.get(userId);
        if (token !== undefined) return token;
      }
      const seen = epoch;
      try {
        const [all, user] = await redis.mget(ALL_KEY, userKey(userId));
        const token = `${all ?? '0'}:${user ?? '0'}`;
        if (subscribed && epoch === seen) known.set(userId, token);
        return token;
      } catch {
        return undefined;
      }
    },

    async bump(scope) {
      epoch++;
      if (scope === 'all') known.clear();
      else for (const user of scope) known.delete(user);
      try {
        const pipeline = redis.multi();
        if (scope === 'all') pipeline.incr(ALL_KEY);
        else for (const user of scope) pipeline.incr(userKey(user)).expire(userKey(user), VERSION_TTL_SECONDS);
        pipeline.publish(CHANNEL, scope === 'all' ? '*' : JSON.stringify(scope));
        const results = await pipeline.exec();
        const failed = results?.find(([error]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error('transaction discarded');
      } catch (error) {
        throw new DependencyUnavailable('redis', error);
      }
    },

    isSubscribed: () => subscribed,

    async close() {
      subscribed = false;
      await Promise.allSettled([redis.quit(), subscriber.status === 'wait' ? undefined : subscriber.quit()]);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
