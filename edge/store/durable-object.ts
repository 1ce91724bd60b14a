import { assertTtlSeconds, guardStore, type EdgeStore } from './store.ts';

/**
 * The workerd adapter: one Durable Object per key. A Durable Object runs one event at a time and
 * its input gate holds other events while it awaits its own storage, so each read-modify-write
 * below is atomic without scripts or locks. The object class (edge/runtime/workerd.ts) only
 * forwards to `applyStoreOp`, which is plain code over a storage interface and unit-testable.
 */

export type StoreOp =
  | { op: 'get' }
  | { op: 'set'; value: string; ttlSeconds: number }
  | { op: 'setIfAbsent'; value: string; ttlSeconds: number }
  | { op: 'take' }
  | { op: 'compareAndSet'; expected: string; next: string; ttlSeconds: number }
  | { op: 'deleteIfEquals'; expected: string }
  | { op: 'delete' }
  | { op: 'increment'; windowSeconds: number }
  | { op: 'addMember'; member: string; ttlSeconds: number }
  | { op: 'removeMember'; member: string }
  | { op: 'members' };

/** What one object keeps: its single value and when it lapses. */
interface Slot {
  value: string | string[];
  expiresAtMs: number;
}

/** The subset of DurableObjectStorage the store needs. */
export interface SlotStorage {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  setAlarm?(scheduledTimeMs: number): Promise<void>;
}

const SLOT = 'slot';

/** Executes one store operation against an object's storage. */
export async function applyStoreOp(storage: SlotStorage, request: StoreOp, nowMs: number): Promise<string | string[] | number | boolean | null> {
  const stored = await storage.get<Slot>(SLOT);
  const slot = stored && stored.expiresAtMs > nowMs ? stored : undefined;
  const text = typeof slot?.value === 'string' ? slot.value : null;
  const write = async (value: Slot['value'], expiresAtMs: number) => {
    await storage.put<Slot>(SLOT, { value, expiresAtMs });
    // The alarm only frees space; reads already ignore a lapsed slot.
    await storage.setAlarm?.(expiresAtMs);
  };
  const until = (ttlSeconds: number) => {
    assertTtlSeconds(ttlSeconds);
    return nowMs + ttlSeconds * 1000;
  };
  switch (request.op) {
    case 'get':
      return text;
    case 'set':
      await write(request.value, until(request.ttlSeconds));
      return true;
    case 'setIfAbsent':
      if (slot) return false;
      await write(request.value, until(request.ttlSeconds));
      return true;
    case 'take':
      if (text !== null) await storage.delete(SLOT);
      return text;
    case 'compareAndSet':
      if (text !== request.expected) return false;
      await write(request.next, until(request.ttlSeconds));
      return true;
    case 'deleteIfEquals':
      if (text !== request.expected) return false;
      await storage.delete(SLOT);
      return true;
    case 'delete':
      await storage.delete(SLOT);
      return true;
    case 'increment': {
      const count = (text === null ? 0 : Number(text)) + 1;
      await write(String(count), slot?.expiresAtMs ?? until(request.windowSeconds));
      return count;
    }
    case 'addMember': {
      const members = new Set(Array.isArray(slot?.value) ? slot.value : []);
      members.add(request.member);
      await write([...members], Math.max(slot?.expiresAtMs ?? 0, until(request.ttlSeconds)));
      return true;
    }
    case 'removeMember': {
      if (!slot || !Array.isArray(slot.value)) return true;
      const members = slot.value.filter((member) => member !== request.member);
      if (members.length === 0) await storage.delete(SLOT);
      else await write(members, slot.expiresAtMs);
      return true;
    }
    case 'members':
      return Array.isArray(slot?.value) ? slot.value : [];
  }
}

/**
 * What the adapter needs from a Durable Object namespace binding (RPC stubs); `Id` is the
 * binding's own id type (workerd's DurableObjectId), passed back to it untouched.
 */
export interface StoreObjectNamespace<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): { apply(request: StoreOp): Promise<unknown> };
}

export function createDurableObjectStore<Id>(namespace: StoreObjectNamespace<Id>): EdgeStore {
  const send = <T>(key: string, request: StoreOp) => namespace.get(namespace.idFromName(key)).apply(request) as Promise<T>;
  const store: EdgeStore = {
    get: (key) => send<string | null>(key, { op: 'get' }),
    set: async (key, value, ttlSeconds) => {
      await send(key, { op: 'set', value, ttlSeconds });
    },
    setIfAbsent: (key, value, ttlSeconds) => send<boolean>(key, { op: 'setIfAbsent', value, ttlSeconds }),
    take: (key) => send<string | null>(key, { op: 'take' }),
    compareAndSet: (key, expected, next, ttlSeconds) => send<boolean>(key, { op: 'compareAndSet', expected, next, ttlSeconds }),
    deleteIfEquals: (key, expected) => send<boolean>(key, { op: 'deleteIfEquals', expected }),
    delete: async (key) => {
      await send(key, { op: 'delete' });
    },
    increment: (key, windowSeconds) => send<number>(key, { op: 'increment', windowSeconds }),
    addMember: async (key, member, ttlSeconds) => {
      await send(key, { op: 'addMember', member, ttlSeconds });
    },
    removeMember: async (key, member) => {
      await send(key, { op: 'removeMember', member });
    },
    members: (key) => send<string[]>(key, { op: 'members' }),
  };
  return guardStore(store);
}
