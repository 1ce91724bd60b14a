import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { PurgeTarget } from '../cdn/cache/object-cache.ts';
import type { CdnPeers } from '../cdn/context.ts';

/**
 * A worker per core for the Node and Bun entries (EDGE_WORKERS=auto, as nginx's worker_processes
 * auto), with node:cluster: the primary only forks, relays and restarts; each worker binds the
 * port itself with SO_REUSEPORT (Node: `listen({ reusePort, exclusive })`; Bun: `Bun.serve({
 * reusePort })`), so the kernel spreads connections and no process hands sockets around.
 *
 * Each worker keeps its own report cache (measured: a shared cache would need IPC or a store
 * round trip per hit, which costs more than the hit itself). A purge reaches one worker over HTTP;
 * it drops its entries, asks the primary to relay the purge to every other worker, and answers
 * only when each has dropped them too (or has exited: a dead worker holds no cache). So core's
 * purge-then-read sees no stale copy whichever worker the read lands on.
 */
const PURGE_RELAY_TIMEOUT_MS = 5_000;
const RESTART_DELAY_MS = 1_000;

type Message =
  | { edge: 'purge'; id: number; target: PurgeTarget }
  | { edge: 'purge-apply'; relay: string; target: PurgeTarget }
  | { edge: 'purge-applied'; relay: string }
  | { edge: 'purge-done'; id: number; error?: string };

/** EDGE_WORKERS: unset or 1 = one process (the default); `auto` = one per core; or a count. */
export function workerCountOf(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return Math.max(1, availableParallelism());
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error(`edge: EDGE_WORKERS must be auto or a count from 1 to 64, got ${JSON.stringify(value)}`);
  return count;
}

export function isClusterPrimary(count: number): boolean {
  return count > 1 && cluster.isPrimary;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** The primary: forks `count` workers, relays purges between them, replaces a worker that dies. */
export function runPrimary(count: number, runtime: string): void {
  let stopping = false;
  /** Keyed by `<worker id>:<the worker's purge id>`, unique across workers. */
  const pending = new Map<string, { origin: Worker; id: number; waiting: Set<number>; timer: ReturnType<typeof setTimeout> }>();
  const say = (event: string, fields: Record<string, unknown> = {}) =>
    console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', service: 'edge', event, runtime, ...fields }));

  const settle = (relay: string, error?: string) => {
    const entry = pending.get(relay);
    if (!entry) return;
    pending.delete(relay);
    clearTimeout(entry.timer);
    if (entry.origin.isConnected()) entry.origin.send({ edge: 'purge-done', id: entry.id, error } satisfies Message);
  };

  const onMessage = (worker: Worker, message: Message) => {
    if (!message || typeof message !== 'object') return;
    if (message.edge === 'purge') {
      const others = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w !== worker && w.isConnected());
      const relay = `${worker.id}:${message.id}`;
      const timer = setTimeout(() => settle(relay, `purge not confirmed by ${pending.get(relay)?.waiting.size ?? 0} worker(s) within ${PURGE_RELAY_TIMEOUT_MS} ms`), PURGE_RELAY_TIMEOUT_MS);
      pending.set(relay, { origin: worker, id: message.id, waiting: new Set(others.map((w) => w.id)), timer });
      for (const other of others) other.send({ edge: 'purge-apply', relay, target: message.target } satisfies Message);
      if (others.length === 0) settle(relay);
    } else if (message.edge === 'purge-applied') {
      const entry = pending.get(message.relay);
      if (!entry) return;
      entry.waiting.delete(worker.id);
      if (entry.waiting.size === 0) settle(message.relay);
    }
  };

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: Message) => onMessage(worker, message));
    worker.on('exit', (code, signal) => {
      // A dead worker holds no cache: stop waiting for it.
      for (const [relay, entry] of pending) {
        entry.waiting.delete(worker.id);
        if (entry.waiting.size === 0) settle(relay);
      }
      if (stopping) return;
      say('edge.worker_exited', { worker: worker.id, code, signal });
      setTimeout(() => !stopping && fork(), RESTART_DELAY_MS);
    });
  };

  for (let i = 0; i < count; i++) fork();
  say('edge.primary_started', { workers: count });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let open = workers.length;
      if (open === 0) process.exit(0);
      for (const worker of workers) {
        worker.once('exit', () => --open === 0 && process.exit(0));
        worker.process.kill(signal);
      }
      setTimeout(() => process.exit(0), 10_000).unref();
    });
  }
}

/**
 * In a worker: `peers.purge` asks the primary to relay a purge to every other worker and resolves
 * when they confirmed; `onPurge` applies purges relayed from the others. A worker whose primary
 * is gone exits (its port is then free for a new edge).
 */
export function clusterPeers(): CdnPeers & { onPurge(apply: (target: PurgeTarget) => Promise<unknown>): void } {
  let nextId = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let apply: ((target: PurgeTarget) => Promise<unknown>) | undefined;
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: Message) => {
    if (!message || typeof message !== 'object') return;
    if (message.edge === 'purge-done') {
      const entry = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) entry?.reject(new Error(message.error));
      else entry?.resolve();
    } else if (message.edge === 'purge-apply') {
      void (apply ? apply(message.target) : Promise.resolve())
        .catch(() => {})
        .finally(() => process.send?.({ edge: 'purge-applied', relay: message.relay } satisfies Message));
    }
  });
  return {
    purge(target) {
      const id = ++nextId;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        process.send?.({ edge: 'purge', id, target } satisfies Message);
      });
    },
    onPurge(handler) {
      apply = handler;
    },
  };
}
