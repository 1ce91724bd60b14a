import type { StackEnv } from './lib/env.ts';
export async function runDev(_env: StackEnv): Promise<void> {}
