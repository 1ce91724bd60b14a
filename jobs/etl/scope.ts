/** What one ETL pipeline reads and where it keeps its progress. */
export interface EtlScope {
  /** Key in etl_watermarks; also names the run lock, so two scopes never block each other. */
  source: string;
  /** Schema holding raw_telemetry and etl_watermarks (`public`; tests and benchmarks use a copy). */
  telemetrySchema: string;
  /** Only these chips (a backfill for a few devices); all chips when absent. */
  chipIds?: readonly string[];
}

export const MART_SOURCE = 'raw_telemetry->report_hourly';

export const defaultScope: EtlScope = { source: MART_SOURCE, telemetrySchema: 'public' };

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const CHIP = /^[A-Za-z0-9_-]{4,64}$/;

/** Refuses a scope that could not be used safely as SQL identifiers or values. */
export function checkScope(scope: EtlScope): EtlScope {
  if (!SCHEMA.test(scope.telemetrySchema)) throw new Error(`telemetry schema must be a plain lower-case identifier, got "${scope.telemetrySchema}"`);
  if (scope.source.length < 1 || scope.source.length > 200) throw new Error('ETL source name must be 1..200 characters');
  if (scope.chipIds) {
    if (scope.chipIds.length === 0) throw new Error('chipIds, when given, must name at least one chip');
    const bad = scope.chipIds.find((chip) => !CHIP.test(chip));
    if (bad !== undefined) throw new Error(`not a chip id: ${JSON.stringify(bad.slice(0, 70))}`);
  }
  return scope;
}
