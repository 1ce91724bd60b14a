import { applyStoreOp, createDurableObjectStore, type SlotStorage, type StoreObjectNamespace, type StoreOp } from '../../edge/store/durable-object.ts';
import { createMemoryStore } from '../../edge/store/memory.ts';
import { runStoreContract } from './store-contract.ts';

function fakeClock() {
  let nowMs = 1_800_000_000_000;
  return { now: () => nowMs, advance: async (seconds: number) => void (nowMs += seconds * 1000) };
}

runStoreContract('in-memory', () => {
  const clock = fakeClock();
  return { store: createMemoryStore(clock.now), advance: clock.advance };
});

/**
 * The Durable Object adapter over an in-process namespace: one storage map per key, operations on
 * one key serialised like an object's input gate does (a promise chain per key).
 */
runStoreContract('Durable Object adapter', () => {
  const clock = fakeClock();
  const objects = new Map<string, { storage: SlotStorage; queue: Promise<unknown> }>();
  const namespace: StoreObjectNamespace = {
    idFromName: (name) => name,
    get: (id) => ({
      apply(request: StoreOp) {
        const name = id as unknown as string;
        let object = objects.get(name);
        if (!object) {
          const data = new Map<string, unknown>();
          const storage: SlotStorage = {
            get: async <T>(key: string) => structuredClone(data.get(key)) as T | undefined,
            put: async (key, value) => void data.set(key, structuredClone(value)),
            delete: async (key) => data.delete(key),
            setAlarm: async () => {},
          };
          object = { storage, queue: Promise.resolve() };
          objects.set(name, object);
        }
        const result = object.queue.then(() => applyStoreOp(object!.storage, request, clock.now()));
        object.queue = result.catch(() => {});
        return result;
      },
    }),
  };
  return { store: createDurableObjectStore(namespace), advance: clock.advance };
});
