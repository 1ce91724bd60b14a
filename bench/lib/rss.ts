/**
 * Resident memory of a server process and everything it started (workers of a cluster, a
 * wrapper's child), read from /proc: the figure `ps` shows, not the process's own view of itself.
 */
import { readdirSync, readFileSync } from 'node:fs';

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) found.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* the process ended */
  }
  return found;
}

/** VmRSS in bytes from a /proc/<pid>/status text; NaN when absent (a zombie has none). */
export function parseVmRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Sum of VmRSS over the process tree rooted at `pid`, in MiB; NaN when the process is gone. */
export function treeRssMiB(pid: number): number {
  let total = 0;
  let seen = false;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    try {
      const bytes = parseVmRssBytes(readFileSync(`/proc/${next}/status`, 'utf8'));
      if (Number.isFinite(bytes)) {
        total += bytes;
        seen = true;
      }
    } catch {
      continue;
    }
    queue.push(...childrenOf(next));
  }
  return seen ? total / 1024 / 1024 : Number.NaN;
}

export interface RssTrace {
  beforeMiB: number;
  afterLoadMiB: number;
  /** Some seconds after the load stopped: what the process gave back. */
  settledMiB?: number;
  settleSeconds?: number;
}
