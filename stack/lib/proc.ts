// Moved to the tooling kit (tools/kit/proc.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/proc.ts';
