// Moved to the tooling kit (tools/kit/log.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/log.ts';
