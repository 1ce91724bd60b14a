import type { OpenAPIHono } from '@hono/zod-openapi';
import type { JobsEnv } from '../context.ts';
import type { JobsDeps } from '../deps.ts';
import { registerListRuns } from './list-runs.ts';
import { registerTriggerEtl } from './trigger-etl.ts';
import { registerTriggerRetention } from './trigger-retention.ts';

export function registerRunRoutes(app: OpenAPIHono<JobsEnv>, deps: JobsDeps): void {
  registerListRuns(app, deps);
  registerTriggerEtl(app, deps);
  registerTriggerRetention(app, deps);
}
