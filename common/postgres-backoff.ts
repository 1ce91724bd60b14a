/**
 * Reconnect delay for postgres.js pools (its `backoff` option), in seconds. The library's default
 * grows with every failed connect of the whole pool (3^n / 100 s, up to 20 s), so a five-second
 * database restart under load left queries queued behind a 15–20 s reconnect delay after the
 * database was back: past every client's timeout (chaos suite, docs/reliability.md). Doubling from
 * 50 ms, capped at one second, still spares a database that is down from a reconnect storm.
 */
export function reconnectBackoffSeconds(retries: number): number {
  return Math.min(0.05 * 2 ** Math.max(0, retries), 1);
}
