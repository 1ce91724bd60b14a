import type { StackEnv } from '../lib/env.ts';

/**
 * One piece of the native stack. `up` calls install → start (if not already answering) → waitReady
 * → provision, in dependency order; every step is idempotent so a second `up` changes nothing.
 */
export interface StackService {
  name: string;
  /** Loopback ports it listens on, as documented in the README and mirrored in compose.yaml. */
  ports: number[];
  dependsOn?: string[];
  /** Installs packages or downloads artifacts that are missing. */
  install(env: StackEnv): Promise<void>;
  /** A protocol-level probe: true only when the service answers requests. */
  isReady(env: StackEnv): Promise<boolean>;
  /** Starts the daemon(s) (recording pids) and returns once they are ready. */
  start(env: StackEnv): Promise<void>;
  /** Creates what must exist inside the running service (users, buckets, connectors). Idempotent. */
  provision?(env: StackEnv): Promise<void>;
  /** Stops only the processes this stack started. */
  stop(env: StackEnv): Promise<void>;
  /** Version string(s) for `stack status` and the README. */
  version?: string;
}
