// Moved to the tooling kit (tools/kit/apt.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/apt.ts';
