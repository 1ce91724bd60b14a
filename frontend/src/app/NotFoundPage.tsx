import { Link } from '@tanstack/react-router';
import { useI18n } from '../i18n/i18n.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <main id="main" className="page page--narrow">
      <PageHeading>{t.notFoundTitle}</PageHeading>
      <p>{t.notFoundLead}</p>
      <Link className="button" to="/">
        {t.backToReports}
      </Link>
    </main>
  );
}
