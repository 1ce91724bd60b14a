import { demoPasswordVariable, PEOPLE } from '../../demo/people.ts';
import { loadStackEnv as loadKitEnv, type StackEnv } from '../../tools/kit/env.ts';
import { REDIS_PASSWORD_VARIABLES, redisClientEnv } from '../services/redis-acl.ts';

export type { StackEnv };

/**
 * The key of the pseudonymous report owner ids (common/identity/owner-ref.ts): 32 random bytes, the
 * minimum that module accepts. Core and the demo generator hold it; ClickHouse users never do.
 */
const OWNER_REF_KEY_SECRET = { name: 'OWNER_REF_KEY', bytes: 32 };

/** One SASL/SCRAM password per Kafka principal (stack/services/kafka.ts KAFKA_PRINCIPALS). */
const KAFKA_PASSWORDS = ['KAFKA_ADMIN_PASSWORD', 'KAFKA_CONNECT_PASSWORD', 'KAFKA_JOBS_PASSWORD'];

/**
 * The stack's environment: the tooling kit's settings and secrets plus one generated password per
 * demo person (never one shared by all: an administrator's must not be a customer's) and one per
 * Redis user, with each Redis client's URL built from it. The people
 * live in demo/, which the kit may not import; the stack may.
 */
export function loadStackEnv(): StackEnv {
  const env = loadKitEnv([...PEOPLE.map((person) => demoPasswordVariable(person.uid)), OWNER_REF_KEY_SECRET, ...KAFKA_PASSWORDS, ...REDIS_PASSWORD_VARIABLES]);
  // One Redis ACL user per client (stack/services/redis-acl.ts): REDIS_URL is the admin's, the apps get their own.
  return { ...env, ...redisClientEnv(env, process.env) };
}
