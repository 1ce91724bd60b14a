/**
 * Shares one computation among the calls made within `windowMs` of its start, so a flood of
 * requests to an unauthenticated health route (readiness, CDC state) costs at most one round of
 * dependency requests per window however many ask. A clock that went backwards starts a new round
 * rather than keeping an old one for as long as it takes to catch up; a window of 0 (or less)
 * computes on every call. `compute` should not reject: a rejection is shared like an answer.
 */
export function reuseRecent<T>(compute: () => Promise<T>, windowMs: number, now: () => number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const at = now();
    if (!last || windowMs <= 0 || at - last.at >= windowMs || at < last.at) last = { at, value: compute() };
    return last.value;
  };
}
