import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { log } from './log.ts';

/**
 * PostgreSQL, slapd, ClickHouse and Redis run as their own system users with data under .stack/.
 * A checkout inside a private directory (mktemp -d is 0700) would lock them out, so when running
 * as root the ancestors get the search bit for others — traversal only, nothing becomes listable.
 */
export function ensureTraversable(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() !== 0) return;
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      log.step('stack', `made ${current} traversable for the services' system users`);
    }
    if (dirname(current) === current) break;
  }
}
