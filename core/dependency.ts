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

/** Races a promise against a timeout, for probes that must answer within a bound. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
