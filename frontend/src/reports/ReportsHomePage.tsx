import { loadOwnReportList, loadOwnSummary } from '../api/reports.ts';
import { useResource } from '../api/use-resource.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/StatusViews.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { DayList } from '../reports/DayList.tsx';
import { SummarySection } from '../reports/SummarySection.tsx';
import { routePath } from '../router/routes.ts';
import { useMe } from '../session/session.tsx';

/** The signed-in home: the person's summary and their report days. */
export function ReportsHomePage() {
  const { t } = useI18n();
  const me = useMe();
  const reports = useResource(async (signal) => {
    const [summary, list] = await Promise.all([loadOwnSummary(signal), loadOwnReportList(signal)]);
    return { summary, list };
  }, [me.username]);

  return (
    <main id="main" className="page">
      <div className="page__head">
        <PageHeading>{t.navReports}</PageHeading>
      </div>
      {reports.status === 'loading' ? <LoadingState /> : null}
      {reports.status === 'error' ? <ErrorState error={reports.error} onRetry={reports.reload} /> : null}
      {reports.status === 'ready' && (reports.data.summary === null || reports.data.list === null || reports.data.list.days.length === 0) ? (
        <EmptyState
          title={t.noReportsTitle}
          action={
            <button type="button" className="button" onClick={reports.reload}>
              {t.refresh}
            </button>
          }
        >
          {t.noReportsLead}
        </EmptyState>
      ) : null}
      {reports.status === 'ready' && reports.data.summary && reports.data.list && reports.data.list.days.length > 0 ? (
        <>
          <SummarySection summary={reports.data.summary} />
          <DayList days={reports.data.list.days} totalDays={reports.data.list.total_days} hrefFor={(date) => routePath({ name: 'day', date })} />
        </>
      ) : null}
    </main>
  );
}
