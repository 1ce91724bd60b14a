import { run, type RunOptions, type RunResult } from './proc.ts';

/**
 * PostgreSQL and slapd refuse to run as root. When the stack runs as root (CI, a fresh VM) their
 * commands run as the packages' own system user; otherwise as the current user.
 */
export function runAs(user: string, command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  if (process.getuid?.() !== 0) return run(command, args, options);
  return run('runuser', ['-u', user, '--', command, ...args], options);
}
