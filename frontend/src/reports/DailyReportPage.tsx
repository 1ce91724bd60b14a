import { loadOwnDailyReport, loadOwnReportList } from '../api/reports.ts';
import { useResource } from '../api/use-resource.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/StatusViews.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { DailyReportView, neighbours } from '../reports/DailyReportView.tsx';
import { routePath } from '../router/routes.ts';
import { Link } from '../router/router.tsx';
import { useMe } from '../session/session.tsx';

/** The signed-in person's report for one day. */
export function DailyReportPage({ date }: { date: string }) {
  const { t, format } = useI18n();
  const me = useMe();
  const report = useResource((signal) => loadOwnDailyReport(date, signal), [me.username, date]);
  // Only for previous/next; the page works without it.
  const list = useResource((signal) => loadOwnReportList(signal).catch(() => null), [me.username]);
  const days = list.status === 'ready' ? list.data?.days : undefined;
  const hrefFor = (day: string) => routePath({ name: 'day', date: day });

  return (
    <main id="main" className="page">
      {report.status === 'loading' ? <LoadingState /> : null}
      {report.status === 'error' ? <ErrorState error={report.error} onRetry={report.reload} /> : null}
      {report.status === 'ready' && report.data === null ? (
        <>
          <PageHeading>{t.dailyTitle(format.dayLong(date))}</PageHeading>
          <EmptyState
            title={t.noDataForDay}
            action={
              <Link className="button" href="/">
                {t.allDays}
              </Link>
            }
          />
        </>
      ) : null}
      {report.status === 'ready' && report.data !== null ? (
        <DailyReportView report={report.data} navigation={{ ...neighbours(days, date), hrefFor, backHref: '/', backLabel: t.allDays }} />
      ) : null}
    </main>
  );
}
