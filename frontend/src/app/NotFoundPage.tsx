import { PageHeading } from '../components/PageHeading.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { Link } from '../router/router.tsx';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <main id="main" className="page page--narrow">
      <PageHeading>{t.notFoundTitle}</PageHeading>
      <p>{t.notFoundLead}</p>
      <Link className="button" href="/">
        {t.backToReports}
      </Link>
    </main>
  );
}
