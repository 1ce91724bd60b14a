import { useState } from 'react';
import { ApiFailure } from '../api/http.ts';
import { invalidateReports, type InvalidateScope } from '../api/reports.ts';
import type { InvalidateResponse } from '../api/types.ts';
import { useI18n } from '../i18n/i18n.tsx';

type Phase = { step: 'idle' } | { step: 'confirm' } | { step: 'running' } | { step: 'done'; result: InvalidateResponse } | { step: 'failed'; error: unknown };

/**
 * Drops cached report documents (S3 and the CDN edge) for one person or for everyone. Dropping
 * everything asks for confirmation inline (a focusable button pair, not window.confirm).
 */
export function InvalidateButton({ scope, label, confirmText, onDone }: { scope: InvalidateScope; label: string; confirmText?: string; onDone?: () => void }) {
  const { t } = useI18n();
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });

  const run = async () => {
    setPhase({ step: 'running' });
    try {
      const result = await invalidateReports(scope);
      setPhase({ step: 'done', result });
      onDone?.();
    } catch (error) {
      setPhase({ step: 'failed', error });
    }
  };

  const purgeText = (result: InvalidateResponse) => (!result.purge.attempted ? t.purgeSkipped : result.purge.ok ? t.purgeOk : t.purgeFailed);

  return (
    <div className="invalidate">
      {phase.step === 'confirm' ? (
        <div className="confirm" role="group" aria-label={label}>
          <p>{confirmText}</p>
          <div className="actions">
            <button type="button" className="button button--danger" onClick={run} autoFocus>
              {t.confirm}
            </button>
            <button type="button" className="button button--ghost" onClick={() => setPhase({ step: 'idle' })}>
              {t.cancel}
            </button>
          </div>
        </div>
      ) : (
        <button
          type="button"
          className={confirmText ? 'button button--danger' : 'button'}
          disabled={phase.step === 'running'}
          onClick={() => (confirmText ? setPhase({ step: 'confirm' }) : void run())}
          data-testid={'all' in scope ? 'invalidate-all' : 'invalidate-user'}
        >
          {phase.step === 'running' ? t.invalidating : label}
        </button>
      )}
      <div aria-live="polite" className="invalidate__result">
        {phase.step === 'done' ? (
          <p className="banner banner--ok" data-testid="invalidate-result">
            {t.invalidated(phase.result.deleted_objects, purgeText(phase.result))}
          </p>
        ) : null}
        {phase.step === 'failed' ? (
          <p className="banner banner--error" role="alert">
            {t.errorTitle}
            {phase.error instanceof ApiFailure && phase.error.requestId ? ` — ${t.requestId(phase.error.requestId)}` : ''}
          </p>
        ) : null}
      </div>
    </div>
  );
}
