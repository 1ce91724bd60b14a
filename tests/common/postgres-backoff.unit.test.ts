import { expect, test } from 'bun:test';
import { reconnectBackoffSeconds } from '../../common/postgres-backoff.ts';

// postgres.js counts failed connects across the whole pool; during a 5 s restart under load that
// count passes 7 (its default then waits 10–20 s). The delay must stay at most 1 s however high it
// climbs, and start small so the first reconnect after a blip is quick.
test('reconnect backoff starts at 50 ms, doubles, and never exceeds one second', () => {
  expect(reconnectBackoffSeconds(0)).toBe(0.05);
  expect(reconnectBackoffSeconds(1)).toBe(0.1);
  for (let retries = 0; retries <= 100; retries++) expect(reconnectBackoffSeconds(retries)).toBeLessThanOrEqual(1);
  expect(reconnectBackoffSeconds(50)).toBe(1);
});
