import type { Context } from 'hono';
import { hasAnyRole, type Principal } from '../../common/auth/principal.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { signReportUrl } from '../../common/cdn/signing.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import type { SignedUrl } from './documents.ts';
import { parseReportDate } from './keys.ts';
import type { DocumentRequest } from './report-cache.ts';

/** Shared steps of the report routes (own and admin, JSON and CDN URL). */

export function assertRole(principal: Principal, roles: readonly string[]): void {
  if (!hasAnyRole(principal, roles)) {
    throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires one of the roles: ${roles.join(', ')}` });
  }
}

export function dailyRequest(userId: string, date: string): DocumentRequest {
  const day = parseReportDate(date);
  if (!day) throw new ApiError({ code: ErrorCode.bad_request, message: `Not a calendar day: ${date.slice(0, 20)} (expected YYYY-MM-DD)`, details: { param: 'date' } });
  return { kind: 'daily', userId, date: day.date, dayStartMs: day.startMs };
}

function noData(request: DocumentRequest): ApiError {
  return new ApiError({
    code: ErrorCode.not_found,
    message: request.kind === 'daily' ? `No report data for ${request.date}` : 'No report data',
  });
}

/** The document's JSON text (S3 hit, or computed and stored on a miss); 404 when the day has no data. */
export async function readReportDocument(c: Context<CoreEnv>, deps: CoreDeps, request: DocumentRequest): Promise<string> {
  const result = await deps.reportCache.read(request);
  addToWideEvent(c as never, { cache: result.outcome, report: request.kind });
  if (!result.found) throw noData(request);
  return result.body;
}

/** A short-lived signed CDN URL for the document's object, creating the object on a miss. */
export async function signedReportUrl(c: Context<CoreEnv>, deps: CoreDeps, request: DocumentRequest): Promise<SignedUrl> {
  const result = await deps.reportCache.ensure(request);
  addToWideEvent(c as never, { cache: result.outcome, report: request.kind, cdn: true });
  if (!result.found) throw noData(request);
  const expiresAtSeconds = Math.floor(deps.now() / 1000) + deps.config.CDN_URL_TTL_SECONDS;
  const url = await signReportUrl({ cdnUrl: deps.config.CDN_URL, key: result.key, expiresAtSeconds, signingKey: deps.config.CDN_SIGNING_KEY });
  // The URL is a short-lived credential: nobody on the way may keep it.
  c.header('Cache-Control', 'no-store');
  return { url, key: result.key, expires_at: new Date(expiresAtSeconds * 1000).toISOString(), cache: result.outcome };
}
