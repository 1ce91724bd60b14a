import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createLogger } from '../../common/log.ts';
import type { PurgeTarget } from '../cdn/cache/object-cache.ts';
import type { CdnPeers } from '../cdn/context.ts';

/**
 * A worker per core for the Node and Bun entries (EDGE_WORKERS=auto, as nginx's worker_processes
 * auto), with node:cluster: the first process serves too and forks the others; every process binds
 * the port itself with SO_REUSEPORT (Node: `listen({ reusePort, exclusive })`; Bun: `Bun.serve({
 * reusePort })`), so the kernel spreads connections and no process hands sockets around. No idle
 * primary: each process costs ~90 MiB of RSS on Node (V8, the type stripper and the modules).
 *
 * Each process keeps its own report cache (a shared one would cost an IPC or store round trip per
 * hit, more than the hit itself). A purge reaches one process over HTTP; it drops its entries, has
 * the purge relayed to every other process (the first one relays), and answers only when each has
 * dropped them too, or has exited (a dead worker holds no cache). So core's purge-then-read sees
 * no stale copy whichever process the read lands on.
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

export interface ClusterPeers extends CdnPeers {
  /** Applies purges that reached another process. */
  onPurge(apply: (target: PurgeTarget) => Promise<unknown>): void;
}

/**
 * Joins (or, in the first process, starts) a cluster of `count` processes; undefined for one. The
 * caller then serves with reusePort whenever peers are returned.
 */
export function joinCluster(count: number, runtime: string): ClusterPeers | undefined {
  if (count <= 1) return undefined;
  return cluster.isPrimary ? startPrimary(count, runtime) : workerPeers();
}

type Pending = { settle: (error?: string) => void; waiting: Set<number>; timer: ReturnType<typeof setTimeout> };

/** The first process: serves, forks `count - 1` workers, relays purges, replaces a worker that dies. */
function startPrimary(count: number, runtime: string): ClusterPeers {
  let stopping = false;
  let nextRelay = 0;
  let apply: ((target: PurgeTarget) => Promise<unknown>) | undefined;
  const pending = new Map<string, Pending>();
  const logger = createLogger({ service: 'edge' }, { runtime, pid: process.pid });
  const say = (event: string, fields: Record<string, unknown> = {}) => logger.info(event, fields);
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());

  /** Sends a purge to every worker except `from`; `settle` runs once all confirmed, or on timeout. */
  const relay = (target: PurgeTarget, from: Worker | undefined, settle: (error?: string) => void) => {
    const relayId = `r${++nextRelay}`;
    const targets = workers().filter((w) => w !== from);
    const finish = (error?: string) => {
      const entry = pending.get(relayId);
      if (!entry) return;
      pending.delete(relayId);
      clearTimeout(entry.timer);
      settle(error);
    };
    const timer = setTimeout(() => finish(`purge not confirmed by ${pending.get(relayId)?.waiting.size ?? 0} worker(s) within ${PURGE_RELAY_TIMEOUT_MS} ms`), PURGE_RELAY_TIMEOUT_MS);
    pending.set(relayId, { settle: finish, waiting: new Set(targets.map((w) => w.id)), timer });
    for (const worker of targets) worker.send({ edge: 'purge-apply', relay: relayId, target } satisfies Message);
    if (targets.length === 0) finish();
  };

  const onMessage = (worker: Worker, message: Message) => {
    if (!message || typeof message !== 'object') return;
    if (message.edge === 'purge') {
      // Apply here first, then relay to the other workers; answer the worker when all are done.
      void (apply ? apply(message.target) : Promise.resolve())
        .catch(() => {})
        .finally(() =>
          relay(message.target, worker, (error) => {
            if (worker.isConnected()) worker.send({ edge: 'purge-done', id: message.id, error } satisfies Message);
          }),
        );
    } else if (message.edge === 'purge-applied') {
      const entry = pending.get(message.relay);
      if (!entry) return;
      entry.waiting.delete(worker.id);
      if (entry.waiting.size === 0) entry.settle();
    }
  };

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: Message) => onMessage(worker, message));
    worker.on('exit', (code, signal) => {
      // A dead worker holds no cache: stop waiting for it.
      for (const entry of pending.values()) {
        entry.waiting.delete(worker.id);
        if (entry.waiting.size === 0) entry.settle();
      }
      if (stopping) return;
      say('edge.worker_exited', { worker: worker.id, code, signal });
      setTimeout(() => !stopping && fork(), RESTART_DELAY_MS);
    });
  };

  for (let i = 1; i < count; i++) fork();
  say('edge.cluster_started', { processes: count });
  const stopWorkers = () => {
    stopping = true;
    for (const worker of workers()) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stopWorkers);
  process.once('SIGINT', stopWorkers);
  process.once('exit', stopWorkers);

  return {
    purge(target) {
      return new Promise<void>((resolve, reject) => relay(target, undefined, (error) => (error ? reject(new Error(error)) : resolve())));
    },
    onPurge(handler) {
      apply = handler;
    },
  };
}

/**
 * In a worker: `purge` asks the first process to apply and relay a purge and resolves when every
 * process confirmed; `onPurge` applies purges relayed from the others. A worker whose first
 * process is gone exits (the port then belongs to whatever starts next).
 */
function workerPeers(): ClusterPeers {
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
