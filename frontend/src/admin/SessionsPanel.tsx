import { useState } from 'react';
import { endUserSessions, loadUserSessions } from '../api/bff.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorState, LoadingState } from '../components/StatusViews.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { describeUserAgent } from './user-agent.ts';

/** A person's live BFF sessions, and a way to end them all (e.g. a lost phone). */
export function SessionsPanel({ user }: { user: string }) {
  const { t, format } = useI18n();
  const sessions = useResource((signal) => loadUserSessions(user, signal), [user]);
  const [ending, setEnding] = useState(false);
  const [ended, setEnded] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);

  const onEnd = async () => {
    setEnding(true);
    setFailed(false);
    try {
      const result = await endUserSessions(user);
      setEnded(result.ended);
      sessions.reload();
    } catch {
      setFailed(true);
    } finally {
      setEnding(false);
    }
  };

  return (
    <section className="section card" aria-labelledby="sessions-title" data-testid="sessions">
      <h2 id="sessions-title">{t.sessionsTitle}</h2>
      {sessions.status === 'loading' ? <LoadingState /> : null}
      {sessions.status === 'error' ? <ErrorState error={sessions.error} onRetry={sessions.reload} /> : null}
      {sessions.status === 'ready' && sessions.data.sessions.length === 0 ? <p className="muted">{t.noSessions}</p> : null}
      {sessions.status === 'ready' && sessions.data.sessions.length > 0 ? (
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
            <button type="button" className="button button--danger" onClick={onEnd} disabled={ending} data-testid="end-sessions">
              {ending ? t.endingSessions : t.endSessions}
            </button>
          </div>
        </>
      ) : null}
      <div aria-live="polite">
        {ended !== null ? (
          <p className="banner banner--ok" data-testid="sessions-ended">
            {t.sessionsEnded(ended)}
          </p>
        ) : null}
        {failed ? (
          <p className="banner banner--error" role="alert">
            {t.errorTitle}
          </p>
        ) : null}
      </div>
    </section>
  );
}
