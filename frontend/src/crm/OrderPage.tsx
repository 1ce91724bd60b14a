import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { changeOrderStatus, type Order, type OrderStatus } from './crm-api.ts';
import type { Versioned } from './etag.ts';
import { useCrmMessages } from './crm-messages.ts';
import { crmQueries } from './crm-queries.ts';
import { RecordNotFound, isNotFound } from './RecordNotFound.tsx';
import { SaveProblem } from './form-parts.tsx';
import { ReplicationStatus } from './ReplicationStatus.tsx';
import { rememberSave } from './replication.ts';
import { defaultChoice, statusChoices } from './order-status.ts';
import { describeSaveFailure, type SaveFailure } from './save-failure.ts';

/** One order: what it is, and a form offering only the statuses core allows next. */
export function OrderPage({ orderId }: { orderId: string }) {
  const m = useCrmMessages();
  const { format } = useI18n();
  const order = useQuery(crmQueries.order(orderId));
  const [round, setRound] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const reload = async () => {
    await order.refetch();
    setRound((value) => value + 1);
  };

  if (order.isPending) return <main id="main" className="page page--narrow"><LoadingState /></main>;
  if (order.isError && isNotFound(order.error)) return <RecordNotFound className="page page--narrow" />;
  if (order.isError) {
    return (
      <main id="main" className="page page--narrow">
        <ErrorState error={order.error} onRetry={() => void order.refetch()} />
      </main>
    );
  }
  const data = order.data;
  return (
    <main id="main" className="page page--narrow">
      <p>
        <Link to="/operator/customers/$customerId" params={{ customerId: data.customer_id }}>
          ← {m.backToCustomer}
        </Link>
      </p>
      <PageHeading>{m.orderTitle(data.model_name)}</PageHeading>
      <dl className="facts card">
        <dt>{m.status}</dt>
        <dd data-testid="order-current-status">{m.statuses[data.status]}</dd>
        <dt>{m.amount}</dt>
        <dd>
          {data.amount} {data.currency}
        </dd>
        <dt>{m.orderedAt}</dt>
        <dd>{format.dateTime(data.ordered_at)}</dd>
      </dl>
      {notice ? (
        <p className="banner banner--ok" role="status" data-testid="status-saved">
          {notice}
        </p>
      ) : null}
      <ReplicationStatus pageId={data.id} />
      <StatusForm key={`${data.etag}:${round}`} order={data} onReload={reload} onSaved={(saved) => setNotice(m.statusChanged(m.statuses[saved.status]))} />
    </main>
  );
}

function StatusForm({ order, onReload, onSaved }: { order: Versioned<Order>; onReload: () => void; onSaved: (order: Order) => void }) {
  const m = useCrmMessages();
  const queryClient = useQueryClient();
  const [base] = useState(order);
  const choices = statusChoices(base);
  const [choice, setChoice] = useState<OrderStatus | undefined>(defaultChoice(base));
  const [failure, setFailure] = useState<SaveFailure | null>(null);
  const save = useMutation({
    mutationFn: (status: OrderStatus) => changeOrderStatus(base.id, base.etag, status),
    onSuccess: (saved) => {
      queryClient.setQueryData(crmQueries.order(base.id).queryKey, saved);
      rememberSave(queryClient, { entity: 'orders', id: saved.id, etag: saved.etag, pages: [saved.id, saved.customer_id] });
      void queryClient.invalidateQueries({ queryKey: crmQueries.customer(base.customer_id).queryKey });
      onSaved(saved);
    },
    onError: (error) => setFailure(describeSaveFailure(error)),
  });
  if (choices.length === 0) return <p className="muted" data-testid="order-final">{m.finalStatus}</p>;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    if (choice) save.mutate(choice);
  };
  return (
    <section className="section card" aria-labelledby="status-title">
      <h2 id="status-title">{m.statusFormTitle}</h2>
      <form className="form" onSubmit={onSubmit} data-testid="status-form">
        <fieldset className="choices">
          <legend>{m.nextStatus}</legend>
          {choices.map((status) => (
            <label key={status} className="choice">
              <input type="radio" name="status" value={status} checked={choice === status} onChange={() => setChoice(status)} data-testid={`status-${status}`} />
              {m.statuses[status]}
            </label>
          ))}
        </fieldset>
        <SaveProblem failure={failure} onReload={onReload} fields={['status']} />
        {failure?.kind === 'invalid' && failure.fields.status ? <p className="field-error">{failure.fields.status}</p> : null}
        <button type="submit" className="button" disabled={!choice || save.isPending} data-testid="status-save">
          {save.isPending ? m.saving : m.save}
        </button>
      </form>
    </section>
  );
}
