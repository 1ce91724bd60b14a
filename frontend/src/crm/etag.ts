import { ApiFailure } from '../http/request.ts';

/**
 * Versions of CRM records. Core gives each record's version twice — the `ETag` header and the
 * record's `etag` field, the same value — and refuses an update without `If-Match` (428) or with
 * a version that is no longer current (412). The app keeps the version it read next to the form
 * it filled from that read, and sends exactly that back: never `*`, never a version read later.
 */

export type Versioned<T> = T & { etag: string };

/** A strong ETag as core writes it: a quoted opaque value, e.g. `"1733480000123456"`. */
const STRONG_ETAG = /^"[\x21\x23-\x7e]+"$/;

export function isStrongEtag(value: unknown): value is string {
  return typeof value === 'string' && STRONG_ETAG.test(value);
}

/** The record with its version: the body's `etag`, else the header's; neither is a broken answer. */
export function versioned<T extends object>(body: T, header: string | null): Versioned<T> {
  const own = (body as { etag?: unknown }).etag;
  const etag = isStrongEtag(own) ? own : header;
  if (!isStrongEtag(etag)) throw new ApiFailure({ kind: 'format', message: 'The CRM answered a record without a version (ETag)' });
  return { ...body, etag };
}

/** The If-Match header of an update based on this version. */
export function ifMatch(etag: string): Record<string, string> {
  if (!isStrongEtag(etag)) throw new Error(`not a version to update from: ${JSON.stringify(etag)}`);
  return { 'if-match': etag };
}

/** Someone else saved the record since it was read (412): the form must be reloaded, not resent. */
export function isLostUpdate(error: unknown): boolean {
  return error instanceof ApiFailure && error.status === 412;
}
