import { LRUCache } from 'lru-cache';
import { createOwnerRefs, type OwnerRefs } from '../../common/identity/owner-ref.ts';

/**
 * Maps a person's username (the token's preferred_username, or the username an administrator looks
 * up) to their report owner ref (common/identity/owner-ref.ts), the only owner key the mart, S3,
 * CDN URLs and logs know. Refs are remembered so a warm report read costs no HMAC.
 */
export interface ReportOwners {
  refOf(username: string): Promise<string>;
}

export function createReportOwners(secret: string, options: { maxEntries?: number } = {}): ReportOwners {
  // Importing the key is async (Web Crypto); started on first use so building deps stays synchronous.
  let refs: Promise<OwnerRefs> | undefined;
  const remembered = new LRUCache<string, string>({ max: options.maxEntries ?? 10_000 });
  return {
    async refOf(username) {
      const known = remembered.get(username);
      if (known !== undefined) return known;
      refs ??= createOwnerRefs(secret);
      const ref = await (await refs).of(username);
      remembered.set(username, ref);
      return ref;
    },
  };
}
