import type { StackEnv } from '../stack/lib/env.ts';

/** Placeholder until the migration runner lands: nothing to apply yet. */
export async function migrateAll(_env: StackEnv): Promise<void> {}
