import { Link, Outlet } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { isAdministrator } from '../session/session-api.ts';
import { useMe } from '../session/session.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';

/**
 * The layout of every `/admin…` page: administrators get the page, anyone else a "no access"
 * page, and nothing is requested from the admin API for them.
 */
export function AdminArea() {
  const { t } = useI18n();
  const me = useMe();
  if (isAdministrator(me)) return <Outlet />;
  return (
    <main id="main" className="page page--narrow" data-testid="admin-only">
      <PageHeading>{t.forbiddenTitle}</PageHeading>
      <p>{t.adminOnlyLead}</p>
      <Link className="button" to="/">
        {t.backToReports}
      </Link>
    </main>
  );
}
