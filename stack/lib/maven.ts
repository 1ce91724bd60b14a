// Moved to the tooling kit (tools/kit/maven.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/maven.ts';
