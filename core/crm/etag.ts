import type { Context } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';

/** Strong ETag of a CRM row: its version (updated_at in µs), quoted. */
export function etagOf(version: string): string {
  return `"${version}"`;
}

/**
 * The version an update is based on, from If-Match. 428 without one (an update must say what it
 * read); `*` is refused too, since it would let a lost update through.
 */
export function requireIfMatch(c: Context): string {
  const header = c.req.header('if-match')?.trim();
  if (!header || header === '*') {
    throw new ApiError({
      code: ErrorCode.precondition_required,
      message: 'Updates need If-Match with the ETag of the version you read',
      details: { header: 'If-Match' },
    });
  }
  const match = /^(?:W\/)?"(\d{1,20})"$/.exec(header);
  if (!match) {
    throw new ApiError({ code: ErrorCode.precondition_failed, message: 'If-Match does not name a version of this record', details: { header: 'If-Match' } });
  }
  return match[1]!;
}

/** 412 when the row changed since the caller read it; the current ETag tells them what to reload. */
export function assertVersion(c: Context, expected: string, current: string): void {
  if (expected !== current) {
    c.header('ETag', etagOf(current));
    throw new ApiError({
      code: ErrorCode.precondition_failed,
      message: 'The record changed since you read it; reload it and apply your change again',
      details: { reason: 'stale_version', current_etag: etagOf(current) },
    });
  }
}
