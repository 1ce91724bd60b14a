import type { Principal } from '../common/auth/principal.ts';

/** Hono context variables of jobs' requests. */
export type JobsEnv = { Variables: { requestId: string; principal: Principal | undefined } };
