/**
 * Reads a running Node app's V8 heap through its inspector, for telling heap growth from V8 sizing
 * its spaces up (docs/reliability.md, "Core's RSS in the soak"). RSS alone cannot: the soak saw it
 * grow in steps that were the young generation doubling, with the live heap flat.
 *
 *   NODE_OPTIONS="--inspect=127.0.0.1:0" npm run chaos -- --faults none --soak-minutes 4
 *   node tests/chaos/heap-probe.ts ws://127.0.0.1:PORT/ID        # from artifacts/chaos/logs/core.log
 *   node tests/chaos/heap-probe.ts ws://127.0.0.1:PORT/ID --gc   # before and after a full GC
 *
 * Prints one JSON line per reading: RSS, heap total/used, external, and each space's used/reserved (MiB).
 * A forced GC disturbs what it measures (it shrinks the young generation), so use it at the ends only.
 */
const [url, flag] = process.argv.slice(2);
if (!url?.startsWith('ws://')) {
  console.error('usage: node tests/chaos/heap-probe.ts ws://host:port/id [--gc]');
  process.exit(2);
}

// Evaluated inside the probed process; process.getBuiltinModule works in ESM and CJS alike.
const READING = `(() => {
  const MiB = (x) => Math.round((x / 1048576) * 10) / 10;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(process.getBuiltinModule('node:v8').getHeapSpaceStatistics()
    .filter((s) => s.space_size > 0)
    .map((s) => [s.space_name, MiB(s.space_used_size) + '/' + MiB(s.space_size)]));
  return JSON.stringify({ at: new Date().toISOString(), rssMiB: MiB(m.rss), heapTotalMiB: MiB(m.heapTotal),
    heapUsedMiB: MiB(m.heapUsed), externalMiB: MiB(m.external), spaces });
})()`;

const socket = new WebSocket(url);
const waiting = new Map<number, (result: unknown) => void>();
let nextId = 0;
socket.addEventListener('message', (event) => {
  const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
  if (message.id === undefined) return;
  if (message.error) throw new Error(`inspector: ${message.error.message}`);
  waiting.get(message.id)?.(message.result);
  waiting.delete(message.id);
});
const call = (method: string, params: object = {}) =>
  new Promise<unknown>((resolve) => {
    const id = ++nextId;
    waiting.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });
const reading = async () => ((await call('Runtime.evaluate', { expression: READING, returnByValue: true })) as { result: { value: string } }).result.value;

await new Promise((resolve, reject) => {
  socket.addEventListener('open', resolve, { once: true });
  socket.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${url}`)), { once: true });
});
if (flag === '--gc') {
  console.log(`before-gc ${await reading()}`);
  await call('HeapProfiler.enable');
  await call('HeapProfiler.collectGarbage');
  console.log(`after-gc  ${await reading()}`);
} else {
  console.log(await reading());
}
socket.close();

export {};
