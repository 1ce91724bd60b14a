import { ApiFailure, fetchSignedDocument, requestJson } from '../http/request.ts';
import type { ReportList, ReportSummary, DailyReport, SignedUrl } from '../../../core/reports/documents.ts';

/**
 * The wire types come from core's own schemas (type-only imports, erased at build): if core
 * changes a document, the app stops type-checking instead of rendering blanks.
 */
export type { DailyReport, DayTotals, HourPoint, ProsthesisRef, ReportDay, ReportList, ReportSummary } from '../../../core/reports/documents.ts';

/**
 * Report documents. A person's own documents come from the CDN edge: core hands out a short-lived
 * signed URL (through the BFF, with the session), the browser fetches the object from the CDN
 * without any cookie. If the CDN cannot serve it, the same document is read through the BFF, so
 * a CDN outage slows the page down instead of breaking it.
 *
 * "No data" (404) is an answer, not a failure: loaders return null and the page shows its empty state.
 */

/** A year of days: the list is one page, newest first. */
export const MAX_LIST_PAGE = 366;

export async function orNullWhenMissing<T>(work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) return null;
    throw error;
  }
}

async function readOwnDocument<T>(cdnPath: string, apiPath: string, signal?: AbortSignal): Promise<T | null> {
  const signed = await orNullWhenMissing(requestJson<SignedUrl>(cdnPath, { signal }));
  if (signed === null) return null;
  try {
    return await fetchSignedDocument<T>(signed.url, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    console.warn(`CDN could not serve ${signed.key}; reading it through the API`, error);
    return orNullWhenMissing(requestJson<T>(apiPath, { signal }));
  }
}

export function loadOwnSummary(signal?: AbortSignal): Promise<ReportSummary | null> {
  return readOwnDocument<ReportSummary>('/api/reports/cdn/summary', '/api/reports/summary', signal);
}

export function loadOwnReportList(signal?: AbortSignal): Promise<ReportList | null> {
  return readOwnDocument<ReportList>('/api/reports/cdn/list', `/api/reports?limit=${MAX_LIST_PAGE}`, signal);
}

export function loadOwnDailyReport(date: string, signal?: AbortSignal): Promise<DailyReport | null> {
  return readOwnDocument<DailyReport>(`/api/reports/cdn/${date}`, `/api/reports/${date}`, signal);
}
