import { loadUserDailyReport, loadUserReportList } from '../api/reports.ts';
import { useResource } from '../api/use-resource.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/StatusViews.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { DailyReportView, neighbours } from '../reports/DailyReportView.tsx';
import { routePath } from '../router/routes.ts';

/** One person's daily report, for administrators. */
export function AdminUserDayPage({ user, date }: { user: string; date: string }) {
  const { t, format } = useI18n();
  const report = useResource((signal) => loadUserDailyReport(user, date, signal), [user, date]);
  const list = useResource((signal) => loadUserReportList(user, signal).catch(() => null), [user]);
  const days = list.status === 'ready' ? list.data?.days : undefined;
  const userHref = routePath({ name: 'adminUser', user });
  return (
    <main id="main" className="page">
      {report.status === 'loading' ? <LoadingState /> : null}
      {report.status === 'error' ? <ErrorState error={report.error} onRetry={report.reload} /> : null}
      {report.status === 'ready' && report.data === null ? (
        <>
          <PageHeading>{t.dailyTitle(format.dayLong(date))}</PageHeading>
          <EmptyState title={t.noDataForDay} />
        </>
      ) : null}
      {report.status === 'ready' && report.data !== null ? (
        <DailyReportView
          report={report.data}
          owner={user}
          navigation={{ ...neighbours(days, date), hrefFor: (day) => routePath({ name: 'adminUserDay', user, date: day }), backHref: userHref, backLabel: t.userReportsTitle(user) }}
        />
      ) : null}
    </main>
  );
}
