import { killService, restartService } from '../../stack/restart.ts';
import type { StackEnv } from '../../stack/lib/env.ts';
import type { AppName, AppSet } from './apps.ts';

/**
 * One fault: SIGKILL one process (a stack daemon with everything it forked, or one of the suite's
 * apps) and start it again the way it is normally started — the stack's own start() + provision()
 * (stack/restart.ts), or the app's entry file on the same port. Nothing else is restarted.
 */
export interface Fault {
  name: string;
  kill(): Promise<void>;
  /** Starts the killed process again; resolves when it answers its readiness probe. */
  restart(): Promise<void>;
}

/** Stack services in the order the suite kills them, then the apps. */
export const STACK_FAULTS = ['postgres-telemetry', 'postgres-crm', 'redis', 'clickhouse', 'kafka', 'kafka-connect', 's3', 'keycloak'] as const;
export const APP_FAULTS: AppName[] = ['core', 'jobs', 'edge'];
export const ALL_FAULTS: string[] = [...STACK_FAULTS, ...APP_FAULTS];

export function faultFor(name: string, env: StackEnv, apps: AppSet): Fault {
  if ((APP_FAULTS as string[]).includes(name)) {
    const app = apps[name as AppName];
    return {
      name,
      kill: () => app.kill(),
      restart: async () => {
        await app.start();
      },
    };
  }
  if (!(STACK_FAULTS as readonly string[]).includes(name)) throw new Error(`unknown fault ${name}; known: ${ALL_FAULTS.join(', ')}`);
  return {
    name,
    async kill() {
      const pid = await killService(name);
      if (pid === undefined) throw new Error(`${name} is not running under this stack (no live pid in .stack/run); nothing to kill`);
    },
    async restart() {
      await restartService(env, name, { stopFirst: false });
    },
  };
}
