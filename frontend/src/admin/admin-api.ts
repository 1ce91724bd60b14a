import { requestJson } from '../http/request.ts';
import { MAX_LIST_PAGE, orNullWhenMissing, type DailyReport, type ReportList, type ReportSummary } from '../reports/reports-api.ts';
import type { InvalidateResponse } from '../../../core/reports/invalidate.ts';
import type { SessionListResponse } from '../../../edge/bff/admin-list-sessions.ts';
import type { EndSessionsResponse } from '../../../edge/bff/admin-end-sessions.ts';

/**
 * What administrators call: a person's documents through core's audited admin API, cache
 * invalidation, and the person's BFF sessions. Wire types are the services' own (type-only).
 */
export type { EndSessionsResponse, InvalidateResponse, SessionListResponse };

const reportsBase = (user: string) => `/api/admin/users/${encodeURIComponent(user)}/reports`;

export function loadUserSummary(user: string, signal?: AbortSignal): Promise<ReportSummary | null> {
  return orNullWhenMissing(requestJson<ReportSummary>(`${reportsBase(user)}/summary`, { signal }));
}

export function loadUserReportList(user: string, signal?: AbortSignal): Promise<ReportList | null> {
  return orNullWhenMissing(requestJson<ReportList>(`${reportsBase(user)}?limit=${MAX_LIST_PAGE}`, { signal }));
}

export function loadUserDailyReport(user: string, date: string, signal?: AbortSignal): Promise<DailyReport | null> {
  return orNullWhenMissing(requestJson<DailyReport>(`${reportsBase(user)}/${date}`, { signal }));
}

/** A person by username: core maps it to their owner ref, the key of their cached reports. */
export type InvalidateScope = { usernames: string[] } | { all: true };

export function invalidateReports(scope: InvalidateScope): Promise<InvalidateResponse> {
  return requestJson<InvalidateResponse>('/api/reports/invalidate', { method: 'POST', body: scope });
}

const sessionsPath = (username: string) => `/auth/admin/users/${encodeURIComponent(username)}/sessions`;

/** A person's live sessions at the BFF. */
export function loadUserSessions(username: string, signal?: AbortSignal): Promise<SessionListResponse> {
  return requestJson<SessionListResponse>(sessionsPath(username), { signal });
}

/** Ends all of a person's sessions (and revokes their refresh tokens). */
export function endUserSessions(username: string): Promise<EndSessionsResponse> {
  return requestJson<EndSessionsResponse>(sessionsPath(username), { method: 'DELETE' });
}
