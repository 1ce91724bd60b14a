import type { Principal } from '../common/auth/principal.ts';

/** Hono context variables of core's requests. */
export type CoreEnv = {
  Variables: {
    requestId: string;
    principal: Principal | undefined;
    /** Set by the device signature check on telemetry uploads. */
    deviceChipId: string | undefined;
  };
};
