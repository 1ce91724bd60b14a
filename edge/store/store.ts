/**
 * The edge's shared state: login attempts, sessions, refresh locks, rate-limit counters, CDN purge
 * marks. Every operation touches exactly one key, so an adapter may shard by key (the Durable
 * Object adapter does: one object per key). Values are strings; callers serialise.
 *
 * Adapters: Redis (edge/runtime/redis-store.ts, Node/Bun/Deno), a Durable Object per key
 * (edge/store/durable-object.ts, workerd) and an in-memory map (edge/store/memory.ts, unit tests).
 */
export interface EdgeStore {
  get(key: string): Promise<string | null>;
  /** Writes unconditionally; the key expires after `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Writes only if the key does not exist; true when this call wrote it (a lock or a claim). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Reads and deletes in one step: of two concurrent callers at most one gets the value. */
  take(key: string): Promise<string | null>;
  /** Replaces the value only while it still equals `expected`; true when replaced. */
  compareAndSet(key: string, expected: string, next: string, ttlSeconds: number): Promise<boolean>;
  /** Deletes only while the value still equals `expected` (releasing a lock one holds). */
  deleteIfEquals(key: string, expected: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Fixed-window counter: adds one and returns the new count; the window starts at the first hit. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /** A set of members under one key (a user's session ids); the key's TTL is raised to `ttlSeconds`. */
  addMember(key: string, member: string, ttlSeconds: number): Promise<void>;
  removeMember(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
}

/** Key names live here so adapters and tests agree on them. */
export const storeKeys = {
  loginAttempt: (state: string) => `edge:login:${state}`,
  session: (sessionId: string) => `edge:session:${sessionId}`,
  userSessions: (username: string) => `edge:user-sessions:${username}`,
  /** BFF sessions created from one Keycloak SSO session (its `sid`), for back-channel logout. */
  ssoSessions: (sid: string) => `edge:sso-sessions:${sid}`,
  /** BFF sessions of one Keycloak subject, for a back-channel logout token that names only `sub`. */
  subjectSessions: (subject: string) => `edge:subject-sessions:${subject}`,
  /** A back-channel logout token's jti, remembered so the token cannot be replayed. */
  logoutTokenId: (jti: string) => `edge:logout-jti:${jti}`,
  refreshLock: (sessionId: string) => `edge:refresh-lock:${sessionId}`,
  rateLimit: (scope: string, client: string, window: number) => `edge:rate:${scope}:${client}:${window}`,
  cdnPurges: () => 'edge:cdn-purges',
  /** A signed purge request's nonce, claimed until its signature expires so it cannot be replayed. */
  cdnPurgeNonce: (nonce: string) => `edge:cdn-purge-nonce:${nonce}`,
  /** Read (never written) by /health/ready to see the store answer. */
  readinessProbe: () => 'edge:health:probe',
};

/** TTLs must be positive whole seconds; adapters share this check so bad callers fail loudly. */
export function assertTtlSeconds(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new TypeError(`store: ttlSeconds must be a positive integer, got ${ttlSeconds}`);
}

/** The store did not answer (Redis down, Durable Object unreachable): answered as 503, never as a logout. */
export class StoreUnavailable extends Error {
  constructor(operation: string, cause: unknown) {
    super(`session store unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailable';
  }
}

/** Wraps an adapter so every failure surfaces as StoreUnavailable, whatever the driver throws. */
export function guardStore(store: EdgeStore): EdgeStore {
  const guarded = {} as Record<string, unknown>;
  for (const name of Object.keys(store) as Array<keyof EdgeStore>) {
    const operation = store[name] as (...args: unknown[]) => Promise<unknown>;
    if (typeof operation !== 'function') continue;
    guarded[name] = async (...args: unknown[]) => {
      try {
        return await operation(...args);
      } catch (error) {
        // A caller's mistake (bad TTL) stays a bug, not an outage.
        if (error instanceof StoreUnavailable || error instanceof TypeError) throw error;
        throw new StoreUnavailable(name, error);
      }
    };
  }
  return guarded as unknown as EdgeStore;
}
