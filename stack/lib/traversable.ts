// Moved to the tooling kit (tools/kit/traversable.ts, see docs/architecture.md); kept for importers not yet moved.
export * from '../../tools/kit/traversable.ts';
