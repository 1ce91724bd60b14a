import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { DailyReportView } from '../reports/DailyReportView.tsx';
import { neighbours } from '../reports/report-day.ts';
import { PageHeading } from '../ui/PageHeading.tsx';
import { statusOf } from '../ui/query-status.ts';
import { EmptyState, ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { personQueries } from './admin-queries.ts';

/** One person's daily report, for administrators. */
export function AdminUserDayPage({ user, date }: { user: string; date: string }) {
  const { t, format } = useI18n();
  const report = useQuery(personQueries.day(user, date));
  // Only for previous/next; the page works without it.
  const list = useQuery(personQueries.list(user));
  const state = statusOf([report]);
  const back = (
    <Link className="button button--ghost button--small" to="/admin/users/$user" params={{ user }} activeOptions={{ exact: true }}>
      {t.userReportsTitle(user)}
    </Link>
  );
  return (
    <main id="main" className="page">
      {state.status === 'loading' ? <LoadingState /> : null}
      {state.status === 'error' ? <ErrorState error={state.error} onRetry={state.retry} /> : null}
      {state.status === 'ready' && report.data === null ? (
        <>
          <PageHeading>{t.dailyTitle(format.dayLong(date))}</PageHeading>
          <EmptyState title={t.noDataForDay} />
        </>
      ) : null}
      {state.status === 'ready' && report.data ? (
        <DailyReportView
          report={report.data}
          owner={user}
          navigation={{ ...neighbours(list.data?.days, date), linkToDay: (day, props) => <Link to="/admin/users/$user/reports/$date" params={{ user, date: day }} {...props} />, back }}
        />
      ) : null}
    </main>
  );
}
