import { queryOptions } from '@tanstack/react-query';
import { loadOwnDailyReport, loadOwnReportList, loadOwnSummary } from './reports-api.ts';

/**
 * The signed-in person's documents as queries. Keys start with the username, so one person's
 * cached documents can never answer for another; the home page and the day page share the list.
 */
export const ownReports = {
  all: (username: string) => ['own-reports', username] as const,
  summary: (username: string) => queryOptions({ queryKey: [...ownReports.all(username), 'summary'], queryFn: ({ signal }) => loadOwnSummary(signal) }),
  list: (username: string) => queryOptions({ queryKey: [...ownReports.all(username), 'list'], queryFn: ({ signal }) => loadOwnReportList(signal) }),
  day: (username: string, date: string) => queryOptions({ queryKey: [...ownReports.all(username), 'day', date], queryFn: ({ signal }) => loadOwnDailyReport(date, signal) }),
};
