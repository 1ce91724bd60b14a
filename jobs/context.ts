import type { Principal } from '../common/auth/principal.ts';
import type { ServiceEnvWith } from '../common/http/service-env.ts';

/** Hono context variables of jobs' requests. */
export type JobsEnv = ServiceEnvWith<{ principal: Principal | undefined }>;
