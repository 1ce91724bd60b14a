// Moved to the tooling kit (tools/kit/wait.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/wait.ts';
