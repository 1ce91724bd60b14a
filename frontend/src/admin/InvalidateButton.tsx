import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiFailure } from '../http/request.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { invalidateReports, type InvalidateResponse, type InvalidateScope } from './admin-api.ts';
import { personQueries } from './admin-queries.ts';

/**
 * Drops cached report documents (S3 and the CDN edge) for one person or for everyone. Dropping
 * everything asks for confirmation inline (a focusable button pair, not window.confirm).
 */
export function InvalidateButton({ scope, label, confirmText }: { scope: InvalidateScope; label: string; confirmText?: string }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const invalidate = useMutation({
    mutationFn: () => invalidateReports(scope),
    // What the app holds is stale too; it is read again on the next visit, not now (that would
    // refill the cache the administrator has just emptied).
    onSuccess: () =>
      'all' in scope
        ? queryClient.invalidateQueries({ refetchType: 'none' })
        : Promise.all(scope.usernames.map((user) => queryClient.invalidateQueries({ queryKey: personQueries.all(user), refetchType: 'none' }))),
  });

  const run = () => {
    setConfirming(false);
    invalidate.mutate();
  };
  const purgeText = (result: InvalidateResponse) => (!result.purge.attempted ? t.purgeSkipped : result.purge.ok ? t.purgeOk : t.purgeFailed);

  return (
    <div className="invalidate">
      {confirming ? (
        <div className="confirm" role="group" aria-label={label}>
          <p>{confirmText}</p>
          <div className="actions">
            <button type="button" className="button button--danger" onClick={run} autoFocus>
              {t.confirm}
            </button>
            <button type="button" className="button button--ghost" onClick={() => setConfirming(false)}>
              {t.cancel}
            </button>
          </div>
        </div>
      ) : (
        <button
          type="button"
          className={confirmText ? 'button button--danger' : 'button'}
          disabled={invalidate.isPending}
          onClick={() => (confirmText ? setConfirming(true) : run())}
          data-testid={'all' in scope ? 'invalidate-all' : 'invalidate-user'}
        >
          {invalidate.isPending ? t.invalidating : label}
        </button>
      )}
      <div aria-live="polite" className="invalidate__result">
        {invalidate.isSuccess ? (
          <p className="banner banner--ok" data-testid="invalidate-result">
            {t.invalidated(invalidate.data.deleted_objects, purgeText(invalidate.data))}
          </p>
        ) : null}
        {invalidate.isError ? (
          <p className="banner banner--error" role="alert">
            {t.errorTitle}
            {invalidate.error instanceof ApiFailure && invalidate.error.requestId ? ` — ${t.requestId(invalidate.error.requestId)}` : ''}
          </p>
        ) : null}
      </div>
    </div>
  );
}
