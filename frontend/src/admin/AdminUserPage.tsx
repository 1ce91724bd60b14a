import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { ReportsOverview } from '../reports/ReportsOverview.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { EmptyState } from '../ui/StatusViews.tsx';
import { personQueries } from './admin-queries.ts';
import { InvalidateButton } from './InvalidateButton.tsx';
import { SessionsPanel } from './SessionsPanel.tsx';

/** One person's summary and days as an administrator sees them (read through the audited admin API). */
export function AdminUserPage({ user }: { user: string }) {
  const { t } = useI18n();
  const summary = useQuery(personQueries.summary(user));
  const list = useQuery(personQueries.list(user));

  return (
    <main id="main" className="page">
      <div className="page__head">
        <PageHeading>{t.userReportsTitle(user)}</PageHeading>
        <Link className="button button--ghost button--small" to="/admin" activeOptions={{ exact: true }}>
          {t.backToAdmin}
        </Link>
      </div>
      <div className="admin-tools">
        <section className="section card" aria-labelledby="user-cache-title">
          <h2 id="user-cache-title">{t.cacheTitle}</h2>
          <InvalidateButton scope={{ usernames: [user] }} label={t.invalidateUser} />
        </section>
        <SessionsPanel user={user} />
      </div>
      <ReportsOverview
        summary={summary}
        list={list}
        linkToDay={(date, props) => <Link to="/admin/users/$user/reports/$date" params={{ user, date }} {...props} />}
        empty={<EmptyState title={t.userHasNoReports} />}
      />
    </main>
  );
}
