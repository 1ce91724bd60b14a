import type { StackEnv } from '../../../stack/lib/env.ts';
import { sweepStaleE2ePeople } from './people.ts';
import { removeReports } from './report-data.ts';

/**
 * Clears what an interrupted earlier run left on the shared stack: its people (directory entries,
 * group memberships, Keycloak users) and their report rows and cached objects. Needs core running.
 */
export async function sweepLeftovers(env: StackEnv): Promise<void> {
  const removed = await sweepStaleE2ePeople(env);
  if (removed.length === 0) return;
  await removeReports(env, removed);
  console.warn(`e2e: removed ${removed.length} people left by an interrupted run: ${removed.join(', ')}`);
}
