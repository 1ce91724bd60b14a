import { describe, expect, test } from 'bun:test';
import { parseWrkOutput, wrkScript } from './wrk.ts';

/** wrk 4.1's human output with --latency, copied from a run against ClickHouse's /ping. */
const HUMAN = `Running 1s test @ http://127.0.0.1:8123/ping
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.22ms    3.46ms  42.69ms   95.57%
    Req/Sec     4.42k     0.91k    5.65k    80.00%
  Latency Distribution
     50%  198.00us
     75%    1.04ms
     90%    2.43ms
     99%   18.87ms
  4408 requests in 1.00s, 546.70KB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   4393.05
Transfer/sec:    544.84KB
`;

describe('parseWrkOutput', () => {
  test('reads the done() line when the script printed it', () => {
    const output = `${HUMAN}WRK_RESULT {"requests":12689,"durationUs":1006349,"bytes":1611503,"p50Us":123,"p90Us":2626,"p99Us":7855,"connect":0,"read":1,"write":0,"timeout":0,"status":4}\n`;
    const result = parseWrkOutput(output);
    expect(result.requests).toBe(12689);
    expect(result.durationSeconds).toBeCloseTo(1.006349, 6);
    expect(result.requestsPerSecond).toBeCloseTo(12689 / 1.006349, 3);
    expect(result.p50Ms).toBeCloseTo(0.123, 6);
    expect(result.p90Ms).toBeCloseTo(2.626, 6);
    expect(result.p99Ms).toBeCloseTo(7.855, 6);
    expect(result.bytesPerRequest).toBeCloseTo(127, 0);
    expect(result.errors).toBe(5);
    expect(result.non2xx3xx).toBe(4);
  });

  test('falls back to the human summary, converting units', () => {
    const result = parseWrkOutput(HUMAN);
    expect(result.requests).toBe(4408);
    expect(result.durationSeconds).toBe(1);
    expect(result.requestsPerSecond).toBe(4393.05);
    expect(result.p50Ms).toBeCloseTo(0.198, 6);
    expect(result.p90Ms).toBeCloseTo(2.43, 6);
    expect(result.p99Ms).toBeCloseTo(18.87, 6);
    expect(result.bytesPerRequest).toBeCloseTo((546.7 * 1024) / 4408, 3);
    expect(result.errors).toBe(3 + 2 + 7);
    expect(result.non2xx3xx).toBe(7);
  });

  test('latencies in seconds and byte counts in MB are scaled', () => {
    const result = parseWrkOutput(HUMAN.replace('99%   18.87ms', '99%    1.50s').replace('546.70KB read', '2.00MB read'));
    expect(result.p99Ms).toBe(1500);
    expect(result.bytesPerRequest).toBeCloseTo((2 * 1024 * 1024) / 4408, 3);
  });

  test('output without a result is an error naming what wrk said', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/Connection refused/);
    expect(() => parseWrkOutput('')).toThrow(/no result/);
  });
});

describe('wrkScript', () => {
  test('always reports through done(); a path list becomes a request() that stops when used up', () => {
    expect(wrkScript()).toContain('done = function(summary, latency, requests)');
    expect(wrkScript()).not.toContain('request = function');
    const script = wrkScript(['/api/reports/2023-01-01', '/?query="x"\\']);
    expect(script).toContain('"/api/reports/2023-01-01"');
    expect(script).toContain('"/?query=\\"x\\"\\\\"');
    expect(script).toContain('wrk.thread:stop()');
  });
});
