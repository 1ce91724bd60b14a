import type { StackEnv } from './lib/env.ts';
export async function runTests(_env: StackEnv, _args: string[]): Promise<number> { return 0; }
