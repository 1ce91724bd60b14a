import { queryOptions } from '@tanstack/react-query';
import { loadUserDailyReport, loadUserReportList, loadUserSessions, loadUserSummary } from './admin-api.ts';

/** A person's data as an administrator reads it; every key starts with `['admin', user]`. */
export const personQueries = {
  all: (user: string) => ['admin', user] as const,
  summary: (user: string) => queryOptions({ queryKey: [...personQueries.all(user), 'summary'], queryFn: ({ signal }) => loadUserSummary(user, signal) }),
  list: (user: string) => queryOptions({ queryKey: [...personQueries.all(user), 'list'], queryFn: ({ signal }) => loadUserReportList(user, signal) }),
  day: (user: string, date: string) => queryOptions({ queryKey: [...personQueries.all(user), 'day', date], queryFn: ({ signal }) => loadUserDailyReport(user, date, signal) }),
  sessions: (user: string) => queryOptions({ queryKey: [...personQueries.all(user), 'sessions'], queryFn: ({ signal }) => loadUserSessions(user, signal) }),
};
