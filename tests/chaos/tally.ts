/**
 * What one load stream saw, answer by answer, in classes the fault table prints. The rule being
 * checked (issue 9): while a dependency is down the answer is 503 with Retry-After (or, for reports,
 * a cached copy, which is a 200), never another 5xx, never a hang past the client's timeout.
 */

export type AnswerClass =
  /** 2xx (for reports this includes a stale cached copy). */
  | 'ok'
  /** 503 with Retry-After: the documented "try again" answer. */
  | 'retry'
  /** Any other 5xx, or a 503 without Retry-After. */
  | 'error5xx'
  /** A 4xx the load did not ask for (a lost session answers 401 here). */
  | 'error4xx'
  /** No answer within the client's timeout. */
  | 'timeout'
  /** Connection refused or reset: expected only from the very process that was killed. */
  | 'conn';

export const ANSWER_CLASSES: AnswerClass[] = ['ok', 'retry', 'error5xx', 'error4xx', 'timeout', 'conn'];

export type Counts = Record<AnswerClass, number>;

export function emptyCounts(): Counts {
  return { ok: 0, retry: 0, error5xx: 0, error4xx: 0, timeout: 0, conn: 0 };
}

export function classifyStatus(status: number, retryAfter: string | null): AnswerClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 503 && retryAfter !== null && retryAfter.trim() !== '') return 'retry';
  if (status >= 500) return 'error5xx';
  return 'error4xx';
}

export function classifyError(error: unknown): AnswerClass {
  const name = error instanceof Error ? error.name : '';
  const text = error instanceof Error ? `${error.message} ${(error as { code?: string }).code ?? ''} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out/i.test(text)) return 'timeout';
  return 'conn';
}

/** Counts per answer class, and examples of the bad ones (status, path, body start). */
export class Tally {
  counts: Counts = emptyCounts();
  samples: string[] = [];
  lastOkAt = 0;

  record(kind: AnswerClass, detail?: string): void {
    this.counts[kind] += 1;
    if (kind === 'ok') this.lastOkAt = Date.now();
    // Bounded for a long soak; the fault rows show a few of each window's.
    else if (kind !== 'retry' && detail && this.samples.length < 2_000) this.samples.push(`${kind}: ${detail}`.slice(0, 240));
  }

  /** Counts since `earlier` (a snapshot taken with `snapshot()`). */
  since(earlier: Counts): Counts {
    const out = emptyCounts();
    for (const key of ANSWER_CLASSES) out[key] = this.counts[key] - earlier[key];
    return out;
  }

  snapshot(): Counts {
    return { ...this.counts };
  }
}

/** Runs `tick` about `perSecond` times a second (never overlapping more than `concurrency`) until stopped. */
export function startPacer(perSecond: number, concurrency: number, tick: () => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const interval = 1000 / perSecond;
  let next = performance.now();
  const loop = (async () => {
    while (!stopped) {
      if (inFlight.size < concurrency) {
        const task = tick().catch((error: unknown) => console.error('chaos load tick failed:', error));
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
      }
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = performance.now();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
    },
  };
}
