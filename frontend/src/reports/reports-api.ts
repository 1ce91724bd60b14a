import { ApiFailure, fetchSignedDocument, requestJson } from './http.ts';
import type { DailyReport, InvalidateResponse, ReportList, ReportSummary, SignedUrl } from './types.ts';

/**
 * Report documents. A person's own documents come from the CDN edge: core hands out a short-lived
 * signed URL (through the BFF, with the session), the browser fetches the object from the CDN
 * without any cookie. If the CDN cannot serve it, the same document is read through the BFF, so
 * a CDN outage slows the page down instead of breaking it.
 *
 * "No data" (404) is an answer, not a failure: loaders return null and the page shows its empty state.
 */

const MAX_LIST_PAGE = 366;

async function orNullWhenMissing<T>(work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) return null;
    throw error;
  }
}

/** Where the last own document came from; the e2e tests and the console can tell a CDN read from a fallback. */
export type DocumentSource = 'cdn' | 'api';

async function readOwnDocument<T>(cdnPath: string, apiPath: string, signal?: AbortSignal): Promise<{ document: T; source: DocumentSource } | null> {
  const signed = await orNullWhenMissing(requestJson<SignedUrl>(cdnPath, { signal }));
  if (signed === null) return null;
  try {
    return { document: await fetchSignedDocument<T>(signed.url, signal), source: 'cdn' };
  } catch (error) {
    if (signal?.aborted) throw error;
    console.warn(`CDN could not serve ${signed.key}; reading it through the API`, error);
    const document = await orNullWhenMissing(requestJson<T>(apiPath, { signal }));
    return document === null ? null : { document, source: 'api' };
  }
}

export async function loadOwnSummary(signal?: AbortSignal): Promise<ReportSummary | null> {
  return (await readOwnDocument<ReportSummary>('/api/reports/cdn/summary', '/api/reports/summary', signal))?.document ?? null;
}

export async function loadOwnReportList(signal?: AbortSignal): Promise<ReportList | null> {
  const result = await readOwnDocument<ReportList>('/api/reports/cdn/list', `/api/reports?limit=${MAX_LIST_PAGE}`, signal);
  return result?.document ?? null;
}

export async function loadOwnDailyReport(date: string, signal?: AbortSignal): Promise<DailyReport | null> {
  return (await readOwnDocument<DailyReport>(`/api/reports/cdn/${date}`, `/api/reports/${date}`, signal))?.document ?? null;
}

const adminBase = (user: string) => `/api/admin/users/${encodeURIComponent(user)}/reports`;

export function loadUserSummary(user: string, signal?: AbortSignal): Promise<ReportSummary | null> {
  return orNullWhenMissing(requestJson<ReportSummary>(`${adminBase(user)}/summary`, { signal }));
}

export function loadUserReportList(user: string, signal?: AbortSignal): Promise<ReportList | null> {
  return orNullWhenMissing(requestJson<ReportList>(`${adminBase(user)}?limit=${MAX_LIST_PAGE}`, { signal }));
}

export function loadUserDailyReport(user: string, date: string, signal?: AbortSignal): Promise<DailyReport | null> {
  return orNullWhenMissing(requestJson<DailyReport>(`${adminBase(user)}/${date}`, { signal }));
}

export type InvalidateScope = { user_ids: string[] } | { all: true };

export function invalidateReports(scope: InvalidateScope): Promise<InvalidateResponse> {
  return requestJson<InvalidateResponse>('/api/reports/invalidate', { method: 'POST', body: scope });
}
