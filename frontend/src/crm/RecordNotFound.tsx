import { Link } from '@tanstack/react-router';
import { ApiFailure } from '../http/request.ts';
import { PageHeading } from '../ui/PageHeading.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { useCrmMessages } from './crm-messages.ts';

/** Core answers 404 alike for an unknown id and another region's record: the page says just that. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiFailure && error.status === 404;
}

export function RecordNotFound({ className }: { className: string }) {
  const m = useCrmMessages();
  const { t } = useI18n();
  return (
    <main id="main" className={className} data-testid="crm-not-found">
      <PageHeading>{t.notFoundTitle}</PageHeading>
      <p>{m.notFoundRecord}</p>
      <Link className="button" to="/operator">
        {m.backToSearch}
      </Link>
    </main>
  );
}
