// Moved to the tooling kit (tools/kit/paths.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/paths.ts';
