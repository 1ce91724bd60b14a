import { verifyReportUrl, type ReportUrlCheck } from '../../common/cdn/signing.ts';

/**
 * Report links that passed the HMAC check, remembered until they expire. A link is asked for many
 * times (the app, a reload, a colleague's tab), and the HMAC through crypto.subtle was ~13 % of a
 * cache hit's CPU. The memo is keyed by the exact path and query that were verified, so a link that
 * differs in any byte (another signature, expiry or key) is verified afresh, and refused if wrong;
 * only successes are remembered, and each lookup checks the expiry again.
 *
 * Bounded: at most `maxEntries` links; when full, the oldest remembered one goes first (a Map keeps
 * insertion order). Expired links are dropped when looked up and when they reach the front.
 */
export interface VerifiedLinks {
  /** A link verified before and not yet expired at `nowSeconds`: its object key and expiry. */
  lookup(pathAndQuery: string, nowSeconds: number): VerifiedLink | undefined;
  /** Verifies `url` (memo first); remembers a success. */
  verify(url: URL, nowSeconds: number): Promise<ReportUrlCheck>;
  readonly size: number;
}

export interface VerifiedLink {
  key: string;
  expiresAtSeconds: number;
}

export function createVerifiedLinks(signingKey: string, options: { maxEntries?: number } = {}): VerifiedLinks {
  const maxEntries = options.maxEntries ?? 10_000;
  const links = new Map<string, VerifiedLink>();

  const lookup = (pathAndQuery: string, nowSeconds: number): VerifiedLink | undefined => {
    const hit = links.get(pathAndQuery);
    if (!hit) return undefined;
    if (hit.expiresAtSeconds < nowSeconds) {
      links.delete(pathAndQuery);
      return undefined;
    }
    return hit;
  };

  const remember = (pathAndQuery: string, key: string, expiresAtSeconds: number, nowSeconds: number) => {
    if (links.has(pathAndQuery)) return;
    while (links.size >= maxEntries) {
      const oldest = links.keys().next().value as string;
      links.delete(oldest);
    }
    // Drop a few expired links from the front while here, so a quiet memo does not keep them for ever.
    for (const [path, link] of links) {
      if (link.expiresAtSeconds >= nowSeconds) break;
      links.delete(path);
    }
    links.set(pathAndQuery, { key, expiresAtSeconds });
  };

  return {
    lookup,
    async verify(url, nowSeconds) {
      const pathAndQuery = url.pathname + url.search;
      const known = lookup(pathAndQuery, nowSeconds);
      if (known) return { ok: true, key: known.key };
      const check = await verifyReportUrl(url, signingKey, nowSeconds);
      if (check.ok) remember(pathAndQuery, check.key, Number(url.searchParams.get('exp')), nowSeconds);
      return check;
    },
    get size() {
      return links.size;
    },
  };
}
