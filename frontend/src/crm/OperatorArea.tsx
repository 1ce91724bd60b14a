import { Link, Outlet } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { isCrmOperator } from '../session/session-api.ts';
import { useMe } from '../session/session.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';

/**
 * The layout of every `/operator…` page: CRM operators get the page, anyone else a "no access"
 * page, and nothing is requested from the CRM API for them (core would answer 403 anyway).
 */
export function OperatorArea() {
  const { t } = useI18n();
  const me = useMe();
  if (isCrmOperator(me)) return <Outlet />;
  return (
    <main id="main" className="page page--narrow" data-testid="operator-only">
      <PageHeading>{t.forbiddenTitle}</PageHeading>
      <p>{t.operatorOnlyLead}</p>
      <Link className="button" to="/">
        {t.backToReports}
      </Link>
    </main>
  );
}
