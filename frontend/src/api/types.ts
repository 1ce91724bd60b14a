/**
 * The wire types come from the services' own schemas (type-only imports, erased at build): if
 * core or the BFF change a document, the app stops type-checking instead of rendering blanks.
 */
export type { DailyReport, DayTotals, HourPoint, ProsthesisRef, ReportDay, ReportList, ReportSummary, SignedUrl } from '../../../core/reports/documents.ts';
export type { InvalidateResponse } from '../../../core/reports/invalidate.ts';
export type { MeResponse as Me } from '../../../edge/bff/me.ts';
export type { SessionListResponse } from '../../../edge/bff/admin-list-sessions.ts';
export type { EndSessionsResponse } from '../../../edge/bff/admin-end-sessions.ts';
export type { LogoutResponse } from './bff.ts';
