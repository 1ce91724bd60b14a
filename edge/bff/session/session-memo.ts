import { LRUCache } from 'lru-cache';
import type { SessionRecord, SessionTokens } from './session-record.ts';

/**
 * Per-process memo of what a session record's text decodes to: the parsed record and, once opened,
 * its decrypted tokens. Every request still reads the record from the store; the memo is used only
 * when the stored text is exactly the text it was built from, so an ended session (no record), a
 * refresh (new sealed tokens) or a touch (new lastSeen) is seen at once, in every process. What it
 * saves is JSON parsing and the AES-GCM open (with its base64 decoding) of a few kilobytes of
 * tokens on every API call — half of the BFF's CPU per request before it existed.
 *
 * Bounded by the characters it holds (record text + tokens), evicting the least recently used.
 */
export interface SessionMemo {
  record(id: string, raw: string, parse: (raw: string) => SessionRecord | undefined): SessionRecord | undefined;
  tokens(record: SessionRecord, open: () => Promise<SessionTokens>): Promise<SessionTokens>;
  forget(id: string): void;
  readonly size: number;
}

interface Entry {
  raw: string;
  record: SessionRecord;
  sealedTokens?: string;
  tokens?: SessionTokens;
  chars: number;
}

const tokenChars = (tokens: SessionTokens) => tokens.accessToken.length + (tokens.refreshToken?.length ?? 0) + (tokens.idToken?.length ?? 0);

function freeze(record: SessionRecord): SessionRecord {
  // Shared by concurrent requests of one session: nobody may change it in place.
  Object.freeze(record.user.roles);
  Object.freeze(record.user);
  return Object.freeze(record);
}

export function createSessionMemo(maxChars = 8 * 1024 * 1024): SessionMemo {
  // lru-cache, as the CDN's memory cache (edge/cdn/cache/memory-lru.ts): a hit moves the entry in
  // a linked list instead of deleting and re-adding a Map entry. An entry alone larger than the
  // budget is not kept (and replaces nothing it would have replaced).
  const entries = new LRUCache<string, Entry>({ maxSize: maxChars, sizeCalculation: (entry) => Math.max(1, entry.chars) });

  return {
    record(id, raw, parse) {
      const entry = entries.get(id);
      if (entry && entry.raw === raw) return entry.record;
      const record = parse(raw);
      if (!record) {
        entries.delete(id);
        return undefined;
      }
      entries.set(id, { raw, record: freeze(record), chars: raw.length });
      return record;
    },

    async tokens(record, open) {
      const entry = entries.peek(record.id);
      if (entry?.tokens && entry.sealedTokens === record.sealedTokens) return entry.tokens;
      const tokens = Object.freeze(await open());
      // Only remembered beside the record they came from (a record read by another path is not memoised).
      const current = entries.peek(record.id);
      if (current && current.record.sealedTokens === record.sealedTokens) {
        entries.set(record.id, { ...current, sealedTokens: record.sealedTokens, tokens, chars: current.raw.length + tokenChars(tokens) });
      }
      return tokens;
    },

    forget(id) {
      entries.delete(id);
    },

    get size() {
      return entries.size;
    },
  };
}
