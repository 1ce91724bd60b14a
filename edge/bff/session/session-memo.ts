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
  const entries = new Map<string, Entry>();
  let chars = 0;

  const drop = (id: string) => {
    const entry = entries.get(id);
    if (!entry) return;
    chars -= entry.chars;
    entries.delete(id);
  };

  const keep = (id: string, entry: Entry) => {
    drop(id);
    if (entry.chars > maxChars) return;
    entries.set(id, entry);
    chars += entry.chars;
    for (const oldest of entries.keys()) {
      if (chars <= maxChars) break;
      drop(oldest);
    }
  };

  const touch = (id: string, entry: Entry) => {
    // Map order is insertion order: re-inserting marks the entry most recently used.
    entries.delete(id);
    entries.set(id, entry);
  };

  return {
    record(id, raw, parse) {
      const entry = entries.get(id);
      if (entry && entry.raw === raw) {
        touch(id, entry);
        return entry.record;
      }
      const record = parse(raw);
      if (!record) {
        drop(id);
        return undefined;
      }
      keep(id, { raw, record: freeze(record), chars: raw.length });
      return record;
    },

    async tokens(record, open) {
      const entry = entries.get(record.id);
      if (entry?.tokens && entry.sealedTokens === record.sealedTokens) return entry.tokens;
      const tokens = Object.freeze(await open());
      // Only remembered beside the record they came from (a record read by another path is not memoised).
      const current = entries.get(record.id);
      if (current && current.record.sealedTokens === record.sealedTokens) {
        keep(record.id, { ...current, sealedTokens: record.sealedTokens, tokens, chars: current.raw.length + tokenChars(tokens) });
      }
      return tokens;
    },

    forget(id) {
      drop(id);
    },

    get size() {
      return entries.size;
    },
  };
}
