import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { useMe } from '../session/session.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { statusOf } from '../ui/query-status.ts';
import { EmptyState, ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { DailyReportView } from './DailyReportView.tsx';
import { neighbours } from './report-day.ts';
import { ownReports } from './report-queries.ts';

/** The signed-in person's report for one day. */
export function DailyReportPage({ date }: { date: string }) {
  const { t, format } = useI18n();
  const me = useMe();
  const report = useQuery(ownReports.day(me.username, date));
  // Only for previous/next (shared with the home page); the page works without it.
  const list = useQuery(ownReports.list(me.username));
  const state = statusOf([report]);
  const allDays = (
    <Link className="button button--ghost button--small" to="/">
      {t.allDays}
    </Link>
  );

  return (
    <main id="main" className="page">
      {state.status === 'loading' ? <LoadingState /> : null}
      {state.status === 'error' ? <ErrorState error={state.error} onRetry={state.retry} /> : null}
      {state.status === 'ready' && report.data === null ? (
        <>
          <PageHeading>{t.dailyTitle(format.dayLong(date))}</PageHeading>
          <EmptyState
            title={t.noDataForDay}
            action={
              <Link className="button" to="/">
                {t.allDays}
              </Link>
            }
          />
        </>
      ) : null}
      {state.status === 'ready' && report.data ? (
        <DailyReportView
          report={report.data}
          navigation={{ ...neighbours(list.data?.days, date), linkToDay: (day, props) => <Link to="/reports/$date" params={{ date: day }} {...props} />, back: allDays }}
        />
      ) : null}
    </main>
  );
}
