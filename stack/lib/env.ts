import { demoPasswordVariable, PEOPLE } from '../../demo/people.ts';
import { loadStackEnv as loadKitEnv, type StackEnv } from '../../tools/kit/env.ts';

export type { StackEnv };

/**
 * The key of the pseudonymous report owner ids (common/identity/owner-ref.ts): 32 random bytes, the
 * minimum that module accepts. Core and the demo generator hold it; ClickHouse users never do.
 */
const OWNER_REF_KEY_SECRET = { name: 'OWNER_REF_KEY', bytes: 32 };

/**
 * The stack's environment: the tooling kit's settings and secrets plus one generated password per
 * demo person (never one shared by all: an administrator's must not be a customer's). The people
 * live in demo/, which the kit may not import; the stack may.
 */
export function loadStackEnv(): StackEnv {
  return loadKitEnv([...PEOPLE.map((person) => demoPasswordVariable(person.uid)), OWNER_REF_KEY_SECRET]);
}
