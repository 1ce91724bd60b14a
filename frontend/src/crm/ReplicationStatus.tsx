import { useQuery } from '@tanstack/react-query';
import { useCrmMessages, type CrmMessages } from './crm-messages.ts';
import { LAST_SAVE_KEY, loadReplication, pollInterval, replicationQueryKey, replicationView, type ReplicationView, type SavedChange } from './replication.ts';

export function replicationLabel(view: ReplicationView, m: CrmMessages): string {
  switch (view.kind) {
    case 'replicated':
      return m.inReportsAfter(view.lagMs);
    case 'late':
      return m.notInReportsYet;
    case 'unknown':
      return m.replicationUnknown;
    default:
      return m.replicationWaiting;
  }
}

/** The latest save's way to the reports, on the page (customer or order) with this id. */
export function ReplicationStatus({ pageId }: { pageId: string }) {
  // Written by rememberSave; never fetched (enabled: false), so its queryFn never runs.
  const last = useQuery<SavedChange | null>({ queryKey: LAST_SAVE_KEY, queryFn: () => null, enabled: false, initialData: null, staleTime: Infinity });
  const change = last.data && last.data.pages.includes(pageId) ? last.data : null;
  return change ? <Indicator key={replicationQueryKey(change).join(':')} change={change} /> : null;
}

function Indicator({ change }: { change: SavedChange }) {
  const m = useCrmMessages();
  const answer = useQuery({
    queryKey: replicationQueryKey(change),
    queryFn: ({ signal }) => loadReplication(change, signal),
    refetchInterval: (query) => pollInterval(query.state.data, change.savedAt, Date.now()),
    // A failed check is retried by the next poll, not by a burst of retries.
    retry: false,
    staleTime: Infinity,
  });
  const answeredAt = Math.max(answer.dataUpdatedAt, answer.errorUpdatedAt);
  const view = replicationView(answer.data, answer.isError, change.savedAt, answeredAt);
  return (
    <p className={`small replication replication--${view.kind}`} role="status" aria-live="polite" data-testid="replication-status" data-state={view.kind}>
      {replicationLabel(view, m)}
    </p>
  );
}
