import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { registerIngestTelemetry } from './ingest.ts';

export function registerTelemetryRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  registerIngestTelemetry(app, deps);
}
