/**
 * A dependency (ClickHouse, S3, Keycloak, the telemetry database, Kafka) did not answer. Not the
 * caller's fault and usually brief: the HTTP edge answers 503 with Retry-After naming it.
 */
export class DependencyUnavailable extends Error {
  readonly dependency: string;
  constructor(dependency: string, cause: unknown) {
    super(`${dependency} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DependencyUnavailable';
    this.dependency = dependency;
  }
}
