import type { Principal } from '../common/auth/principal.ts';
import type { ServiceEnvWith } from '../common/http/service-env.ts';

/** Hono context variables of core's requests. */
export type CoreEnv = ServiceEnvWith<{
  principal: Principal | undefined;
  /** Set by the device signature check on telemetry uploads. */
  deviceChipId: string | undefined;
}>;
