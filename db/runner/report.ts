/** What one target's migration run did. */
export interface MigrationReport {
  target: string;
  /** Versions applied by this run, in order; empty on a second run. */
  applied: string[];
  alreadyApplied: number;
  durationMs: number;
}
