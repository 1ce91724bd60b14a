import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import type { ContentCoding } from './compression.ts';

/**
 * Validators for the bytes the edge serves (report objects on the CDN, the built app on the BFF):
 * a tag from the content itself, one quoted ETag per representation, and If-None-Match matching.
 */

/** base64url of the first 18 bytes of SHA-256: names these exact bytes; quoted by representationEtag. */
export async function strongEtagOf(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return encodeBase64urlNoPadding(digest.subarray(0, 18));
}

/** Strong ETag per representation: a gzip body is different bytes, so it gets its own validator. */
export function representationEtag(etag: string, coding: ContentCoding | 'identity'): string {
  return coding === 'identity' ? `"${etag}"` : `"${etag}-${coding}"`;
}

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2): any representation of these bytes matches. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const known = new Set([representationEtag(etag, 'identity'), representationEtag(etag, 'gzip'), representationEtag(etag, 'br')]);
  return header.split(',').some((candidate) => known.has(candidate.trim().replace(/^W\//, '')));
}
