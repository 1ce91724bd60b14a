import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (its last release) re-checks an empty request queue with
 * `setTimeout(check, throttledUntil - Date.now())` when no throttle is in force, a hugely negative
 * delay: Node 24 warns TimeoutNegativeWarning (and runs it after 1 ms), and the check re-arms itself
 * the same way. The project used to hide the warning process-wide, which would also hide the next
 * real negative timeout. Here the cause is fixed instead, where kafkajs runs: with nothing pending
 * and no throttle there is nothing to check, so no timer is armed. Every other path (pending
 * requests, an active throttle) is kafkajs's own code. The version is pinned; should a new kafkajs
 * drop or rename the method, this does nothing and the warning comes back rather than a silent break.
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

let applied = false;

/** Applies the fix once per process; call it before creating a kafkajs client. */
export function fixKafkajsNegativeTimeout(): void {
  if (applied) return;
  applied = true;
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
  const schedule = RequestQueue.prototype.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function') return;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
}
