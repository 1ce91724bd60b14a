import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { statusOf } from '../ui/query-status.ts';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import type { LinkToDay } from './day-link.ts';
import { DayList } from './DayList.tsx';
import type { ReportList, ReportSummary } from './reports-api.ts';
import { SummarySection } from './SummarySection.tsx';

/** Summary cards and the list of days, or what to show instead: loading, a failure, or `empty`. */
export function ReportsOverview({
  summary,
  list,
  linkToDay,
  empty,
}: {
  summary: UseQueryResult<ReportSummary | null>;
  list: UseQueryResult<ReportList | null>;
  linkToDay: LinkToDay;
  empty: ReactNode;
}) {
  const state = statusOf([summary, list]);
  if (state.status === 'loading') return <LoadingState />;
  if (state.status === 'error') return <ErrorState error={state.error} onRetry={state.retry} />;
  if (!summary.data || !list.data || list.data.days.length === 0) return <>{empty}</>;
  return (
    <>
      <SummarySection summary={summary.data} />
      <DayList days={list.data.days} totalDays={list.data.total_days} linkToDay={linkToDay} />
    </>
  );
}
