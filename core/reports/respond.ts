import type { Context, TypedResponse } from 'hono';
import { hasAnyRole, type Principal } from '../../common/auth/principal.ts';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import { signReportUrl } from '../../common/cdn/signing.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import type { ReportList, ReportPage, SignedUrl } from './documents.ts';
import { parseReportDate } from './keys.ts';
import { assertReportDateInRange } from './report-date.ts';
import type { DocumentRequest, StoredDocument } from './report-cache.ts';

/** Shared steps of the report routes (own and admin, JSON and CDN URL). */

export function assertRole(principal: Principal, roles: readonly string[]): void {
  if (!hasAnyRole(principal, roles)) {
    throw new ApiError({ code: ErrorCode.forbidden, message: `This operation requires one of the roles: ${roles.join(', ')}` });
  }
}

/**
 * The caller's report owner ref, also put on the request's wide event as `actor`: logs name people
 * by ref only (issue 11). Not by Keycloak subject either: for directory people without an import
 * Keycloak's subject is `f:<provider>:<username>`.
 */
export async function actorOwnerRef(c: Context<CoreEnv>, deps: CoreDeps, principal: Principal): Promise<string> {
  const ref = await deps.owners.refOf(principal.username);
  addToWideEvent(c, { actor: ref });
  return ref;
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

/** The stored document (memory, S3, or computed and stored on a miss); 404 when the day has no data. */
export async function readReportDocument(c: Context<CoreEnv>, deps: CoreDeps, request: DocumentRequest): Promise<StoredDocument> {
  if (request.kind === 'daily') assertReportDateInRange(request, deps.now());
  const result = await deps.reportCache.read(request);
  addToWideEvent(c, { cache: result.outcome, report: request.kind });
  if (!result.found) throw noData(request);
  return result.document;
}

/** RFC 9110 If-None-Match: `*`, or any listed tag equal under the weak comparison. */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}

/** A response whose text is a serialised T (what the route schema promises), sent without re-serialising. */
export type JsonText<T> = Response & TypedResponse<T, 200, 'json'>;

/**
 * Answers JSON text as stored, never parsed and serialised again, with its ETag; a matching
 * If-None-Match gets 304 without a body. Private and revalidated: the document is one person's.
 */
export function sendJsonText<T>(c: Context<CoreEnv>, body: string, etag: string): JsonText<T> {
  c.header('ETag', etag);
  c.header('Cache-Control', 'private, no-cache');
  // The one place a body reaches the client untyped: it is the document stored for this route.
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304) as unknown as JsonText<T>;
  c.header('Content-Type', 'application/json; charset=utf-8');
  return c.body(body, 200) as unknown as JsonText<T>;
}

/** Reads the document and answers its stored bytes (daily report, summary: own and admin routes). */
export async function respondWithDocument<T>(c: Context<CoreEnv>, deps: CoreDeps, request: DocumentRequest): Promise<JsonText<T>> {
  const document = await readReportDocument(c, deps, request);
  return sendJsonText<T>(c, document.body, document.etag);
}

/** A page of the list document: the parsed list is kept beside its text, so a page costs no parse. */
export async function respondWithListPage(c: Context<CoreEnv>, deps: CoreDeps, userId: string, limit: number, offset: number): Promise<JsonText<ReportPage>> {
  const document = await readReportDocument(c, deps, { kind: 'list', userId });
  const list = (document.parsed ??= JSON.parse(document.body)) as ReportList;
  const page = JSON.stringify({ ...list, days: list.days.slice(offset, offset + limit), limit, offset });
  return sendJsonText<ReportPage>(c, page, `${document.etag.slice(0, -1)}-${offset}-${limit}"`);
}

/** A short-lived signed CDN URL for the document's object, creating the object on a miss. */
export async function signedReportUrl(c: Context<CoreEnv>, deps: CoreDeps, request: DocumentRequest): Promise<SignedUrl> {
  if (request.kind === 'daily') assertReportDateInRange(request, deps.now());
  const result = await deps.reportCache.ensure(request);
  addToWideEvent(c, { cache: result.outcome, report: request.kind, cdn: true });
  if (!result.found) throw noData(request);
  const expiresAtSeconds = Math.floor(deps.now() / 1000) + deps.config.CDN_URL_TTL_SECONDS;
  const url = await signReportUrl({ cdnUrl: deps.config.CDN_URL, key: result.key, expiresAtSeconds, signingKey: deps.config.CDN_SIGNING_KEY });
  // The URL is a short-lived credential: nobody on the way may keep it.
  c.header('Cache-Control', 'no-store');
  return { url, key: result.key, expires_at: new Date(expiresAtSeconds * 1000).toISOString(), cache: result.outcome };
}
