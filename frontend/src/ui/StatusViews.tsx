import { Link } from '@tanstack/react-router';
import { useState, type ReactNode } from 'react';
import { ApiFailure } from '../http/request.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { useSession } from '../session/session.tsx';

/** Loading, empty, error and no-access states: each says what happened and offers a way forward. */

export function LoadingState({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="state state--loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? t.loading}</span>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <section className="state state--empty" aria-labelledby="empty-title">
      <h2 id="empty-title">{title}</h2>
      {children ? <p>{children}</p> : null}
      {action}
    </section>
  );
}

/** No report role: the way forward is support, or another account (signing out first). */
export function ForbiddenState() {
  const { t } = useI18n();
  const session = useSession();
  const [failed, setFailed] = useState(false);
  return (
    <section className="state state--forbidden" aria-labelledby="forbidden-title" data-testid="forbidden">
      <h2 id="forbidden-title">{t.forbiddenTitle}</h2>
      <p>{t.forbiddenLead}</p>
      {session.state.status === 'signed-in' ? (
        <div className="actions">
          <button type="button" className="button button--ghost" onClick={() => session.signOut().catch(() => setFailed(true))}>
            {t.useAnotherAccount}
          </button>
        </div>
      ) : null}
      {failed ? (
        <p className="banner banner--error" role="alert">
          {t.signOutFailed}
        </p>
      ) : null}
    </section>
  );
}

/**
 * A failed load. 401s never get here (the whole app switches to "session ended"); a 403 is a
 * lack of rights, not an error to retry.
 */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const { t } = useI18n();
  if (error instanceof ApiFailure && error.status === 403) return <ForbiddenState />;
  const message =
    error instanceof ApiFailure
      ? error.kind === 'network'
        ? t.errorNetwork
        : error.status === 503 || error.status === 502 || error.status === 504
          ? t.errorUnavailable
          : t.errorLoading
      : t.errorLoading;
  const requestId = error instanceof ApiFailure ? error.requestId : undefined;
  return (
    <section className="state state--error" role="alert" aria-labelledby="error-title">
      <h2 id="error-title">{t.errorTitle}</h2>
      <p>{message}</p>
      {requestId ? <p className="muted small">{t.requestId(requestId)}</p> : null}
      <div className="actions">
        <button type="button" className="button" onClick={onRetry}>
          {t.retry}
        </button>
        <Link className="button button--ghost" to="/">
          {t.backToReports}
        </Link>
      </div>
    </section>
  );
}
