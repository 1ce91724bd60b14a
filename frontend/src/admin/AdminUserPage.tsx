import { loadUserReportList, loadUserSummary } from '../api/reports.ts';
import { useResource } from '../api/use-resource.ts';
import { PageHeading } from '../components/PageHeading.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/StatusViews.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { DayList } from '../reports/DayList.tsx';
import { SummarySection } from '../reports/SummarySection.tsx';
import { routePath } from '../router/routes.ts';
import { Link } from '../router/router.tsx';
import { InvalidateButton } from './InvalidateButton.tsx';
import { SessionsPanel } from './SessionsPanel.tsx';

/** One person's summary and days as an administrator sees them (read through the audited admin API). */
export function AdminUserPage({ user }: { user: string }) {
  const { t } = useI18n();
  const reports = useResource(async (signal) => {
    const [summary, list] = await Promise.all([loadUserSummary(user, signal), loadUserReportList(user, signal)]);
    return { summary, list };
  }, [user]);
  const hasData = reports.status === 'ready' && reports.data.summary !== null && reports.data.list !== null && reports.data.list.days.length > 0;

  return (
    <main id="main" className="page">
      <div className="page__head">
        <PageHeading>{t.userReportsTitle(user)}</PageHeading>
        <Link className="button button--ghost button--small" href="/admin">
          {t.backToAdmin}
        </Link>
      </div>
      <div className="admin-tools">
        <section className="section card" aria-labelledby="user-cache-title">
          <h2 id="user-cache-title">{t.cacheTitle}</h2>
          <InvalidateButton scope={{ user_ids: [user] }} label={t.invalidateUser} />
        </section>
        <SessionsPanel user={user} />
      </div>
      {reports.status === 'loading' ? <LoadingState /> : null}
      {reports.status === 'error' ? <ErrorState error={reports.error} onRetry={reports.reload} /> : null}
      {reports.status === 'ready' && !hasData ? <EmptyState title={t.userHasNoReports} /> : null}
      {reports.status === 'ready' && hasData && reports.data.summary && reports.data.list ? (
        <>
          <SummarySection summary={reports.data.summary} />
          <DayList days={reports.data.list.days} totalDays={reports.data.list.total_days} hrefFor={(date) => routePath({ name: 'adminUserDay', user, date })} />
        </>
      ) : null}
    </main>
  );
}
