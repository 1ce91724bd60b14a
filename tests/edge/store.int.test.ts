import { afterAll } from 'bun:test';
import { createRedisStore } from '../../edge/runtime/redis-store.ts';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { runStoreContract } from './store-contract.ts';

// The Redis adapter against the stack's Redis; keys carry a random prefix and expire or are deleted.
const store = createRedisStore({ url: loadStackEnv().REDIS_URL! });
afterAll(() => store.close());

runStoreContract('Redis', () => ({ store, advance: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)) }));
