import { readFileSync } from 'node:fs';
import { run, type RunOptions, type RunResult } from './proc.ts';

/**
 * PostgreSQL and slapd refuse to run as root. When the stack runs as root (CI, a fresh VM) their
 * commands run as the packages' own system user; otherwise as the current user.
 */
export function runAs(user: string, command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  if (process.getuid?.() !== 0) return run(command, args, options);
  return run('runuser', ['-u', user, '--', command, ...args], options);
}

/** uid and gid of a package's system user (from /etc/passwd), to hand it the files it runs on. */
export function systemUser(name: string, packageName: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`system user ${name} is missing; is the ${packageName} package installed?`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
