// Moved to the tooling kit (tools/kit/user.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/user.ts';
