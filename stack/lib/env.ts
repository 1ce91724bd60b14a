// Moved to the tooling kit (tools/kit/env.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/env.ts';
