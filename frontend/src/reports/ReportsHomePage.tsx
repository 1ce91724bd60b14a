import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { useMe } from '../session/session.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { EmptyState } from '../ui/StatusViews.tsx';
import { ownReports } from './report-queries.ts';
import { ReportsOverview } from './ReportsOverview.tsx';

/** The signed-in home: the person's summary and their report days. */
export function ReportsHomePage() {
  const { t } = useI18n();
  const me = useMe();
  const summary = useQuery(ownReports.summary(me.username));
  const list = useQuery(ownReports.list(me.username));
  const refresh = () => {
    void summary.refetch();
    void list.refetch();
  };

  return (
    <main id="main" className="page">
      <div className="page__head">
        <PageHeading>{t.navReports}</PageHeading>
      </div>
      <ReportsOverview
        summary={summary}
        list={list}
        linkToDay={(date, props) => <Link to="/reports/$date" params={{ date }} {...props} />}
        empty={
          <EmptyState
            title={t.noReportsTitle}
            action={
              <button type="button" className="button" onClick={refresh}>
                {t.refresh}
              </button>
            }
          >
            {t.noReportsLead}
          </EmptyState>
        }
      />
    </main>
  );
}
