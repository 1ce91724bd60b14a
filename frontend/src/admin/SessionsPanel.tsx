import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useI18n } from '../i18n/i18n.tsx';
import { statusOf } from '../ui/query-status.ts';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { endUserSessions } from './admin-api.ts';
import { personQueries } from './admin-queries.ts';
import { describeUserAgent } from './user-agent.ts';

/** A person's live BFF sessions, and a way to end them all (e.g. a lost phone). */
export function SessionsPanel({ user }: { user: string }) {
  const { t, format } = useI18n();
  const queryClient = useQueryClient();
  const sessions = useQuery(personQueries.sessions(user));
  const state = statusOf([sessions]);
  const end = useMutation({
    mutationFn: () => endUserSessions(user),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: personQueries.sessions(user).queryKey }),
  });

  return (
    <section className="section card" aria-labelledby="sessions-title" data-testid="sessions">
      <h2 id="sessions-title">{t.sessionsTitle}</h2>
      {state.status === 'loading' ? <LoadingState /> : null}
      {state.status === 'error' ? <ErrorState error={state.error} onRetry={state.retry} /> : null}
      {state.status === 'ready' && sessions.data?.sessions.length === 0 ? <p className="muted">{t.noSessions}</p> : null}
      {state.status === 'ready' && sessions.data && sessions.data.sessions.length > 0 ? (
        <>
          <div className="table-scroll" role="region" aria-labelledby="sessions-title" tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t.sessionStarted} (UTC)</th>
                  <th scope="col">{t.sessionLastSeen} (UTC)</th>
                  <th scope="col">{t.sessionDevice}</th>
                </tr>
              </thead>
              <tbody>
                {sessions.data.sessions.map((session) => (
                  <tr key={session.id} data-testid="session-row">
                    <td>{format.dateTimeCompact(session.createdAt)}</td>
                    <td>
                      {format.dateTimeCompact(session.lastSeenAt)}
                      {session.current ? <span className="muted"> ({t.thisSession})</span> : null}
                    </td>
                    <td title={session.userAgent ?? undefined}>{describeUserAgent(session.userAgent)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="actions">
            <button type="button" className="button button--danger" onClick={() => end.mutate()} disabled={end.isPending} data-testid="end-sessions">
              {end.isPending ? t.endingSessions : t.endSessions}
            </button>
          </div>
        </>
      ) : null}
      <div aria-live="polite">
        {end.isSuccess ? (
          <p className="banner banner--ok" data-testid="sessions-ended">
            {t.sessionsEnded(end.data.ended)}
          </p>
        ) : null}
        {end.isError ? (
          <p className="banner banner--error" role="alert">
            {t.errorTitle}
          </p>
        ) : null}
      </div>
    </section>
  );
}
