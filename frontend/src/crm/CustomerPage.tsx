import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { createOrder, editCustomer, registerProsthesis, type Customer, type CustomerDetail, type Model } from './crm-api.ts';
import { customerChanges, customerFormSchema, defaultCurrency, orderBody, orderFormSchema, prosthesisBody, prosthesisFormSchema } from './crm-forms.ts';
import { useCrmMessages } from './crm-messages.ts';
import { crmQueries } from './crm-queries.ts';
import { RecordNotFound, isNotFound } from './RecordNotFound.tsx';
import { SaveProblem, SelectField, TextField, useCrmForm } from './form-parts.tsx';
import { ProsthesisRow } from './ProsthesisRow.tsx';
import { ReplicationStatus } from './ReplicationStatus.tsx';
import { rememberSave } from './replication.ts';

/** A customer of the operator's region: details (editable), prostheses, orders. */
export function CustomerPage({ customerId }: { customerId: string }) {
  const m = useCrmMessages();
  const detail = useQuery(crmQueries.customer(customerId));
  const models = useQuery(crmQueries.models());
  // The edit form keeps the version it was filled from until a save or a reload starts it afresh.
  const [formRound, setFormRound] = useState(0);
  const [savedRound, setSavedRound] = useState(-1);
  const reload = async () => {
    await detail.refetch();
    setFormRound((round) => round + 1);
  };

  if (detail.isPending) return <main id="main" className="page"><LoadingState /></main>;
  if (detail.isError && isNotFound(detail.error)) return <RecordNotFound className="page" />;
  if (detail.isError) {
    return (
      <main id="main" className="page">
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      </main>
    );
  }
  const { customer, prostheses, orders } = detail.data;
  return (
    <main id="main" className="page">
      <p>
        <Link to="/operator">← {m.backToSearch}</Link>
      </p>
      <PageHeading>{customer.full_name}</PageHeading>
      <p className="muted" data-testid="customer-summary">
        {customer.username} · {m.region}: {customer.region.toUpperCase()}
      </p>
      <ReplicationStatus pageId={customer.id} />

      <div className="crm-grid">
        <EditCustomer
          key={`${customer.id}:${formRound}`}
          customer={customer}
          justSaved={savedRound === formRound}
          onSaved={() => {
            setSavedRound(formRound + 1);
            setFormRound((round) => round + 1);
          }}
          onReload={reload}
        />

        <section className="section card" aria-labelledby="prostheses-title">
          <h2 id="prostheses-title">{m.prosthesesTitle}</h2>
          {prostheses.length === 0 ? <p className="muted">{m.noProstheses}</p> : null}
          <ul className="record-list" data-testid="prostheses">
            {prostheses.map((prosthesis) => (
              <ProsthesisRow key={prosthesis.id} prosthesis={prosthesis} onReload={reload} />
            ))}
          </ul>
          <details className="disclosure">
            <summary>{m.registerTitle}</summary>
            <RegisterProsthesis customer={customer} models={models.data ?? []} />
          </details>
        </section>
      </div>

      <section className="section" aria-labelledby="orders-title">
        <h2 id="orders-title">{m.ordersTitle}</h2>
        <OrderList orders={orders} />
        <NewOrder customer={customer} models={models.data ?? []} />
      </section>
    </main>
  );
}

function EditCustomer({ customer, justSaved, onSaved, onReload }: { customer: Customer; justSaved: boolean; onSaved: () => void; onReload: () => void }) {
  const m = useCrmMessages();
  const queryClient = useQueryClient();
  const [base] = useState(customer);
  const [note, setNote] = useState<string | null>(justSaved ? m.saved : null);
  const form = useCrmForm(customerFormSchema, { full_name: base.full_name, email: base.email, phone: base.phone ?? '' });
  const save = useMutation({
    mutationFn: (body: Parameters<typeof editCustomer>[2]) => editCustomer(base.id, base.etag, body),
    onSuccess: (saved) => {
      queryClient.setQueryData<CustomerDetail>(crmQueries.customer(base.id).queryKey, (detail) => (detail ? { ...detail, customer: saved } : detail));
      rememberSave(queryClient, { entity: 'customers', id: saved.id, etag: saved.etag, pages: [saved.id] });
      void queryClient.invalidateQueries({ queryKey: ['crm', 'search'] });
      onSaved();
    },
    onError: form.refused,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    const data = form.check();
    if (!data) return;
    const changes = customerChanges(base, data);
    if (changes) save.mutate(changes);
    else setNote(m.nothingChanged);
  };
  return (
    <section className="section card" aria-labelledby="details-title">
      <h2 id="details-title">{m.detailsTitle}</h2>
      <form className="form form--stacked" onSubmit={onSubmit} noValidate data-testid="customer-form">
        <TextField id="full_name" label={m.fullName} autoComplete="off" error={form.errorOf('full_name')} {...form.bind('full_name')} />
        <TextField id="email" label={m.email} type="email" inputMode="email" autoComplete="off" error={form.errorOf('email')} {...form.bind('email')} />
        <TextField id="phone" label={m.phone} type="tel" inputMode="tel" autoComplete="off" error={form.errorOf('phone')} {...form.bind('phone')} />
        <SaveProblem failure={form.failure} onReload={onReload} fields={['full_name', 'email', 'phone']} />
        {note ? (
          <p role="status" data-testid="customer-note">
            {note}
          </p>
        ) : null}
        <button type="submit" className="button" disabled={save.isPending} data-testid="customer-save">
          {save.isPending ? m.saving : m.save}
        </button>
      </form>
    </section>
  );
}

function modelOptions(models: readonly Model[], placeholder: string) {
  return [
    <option key="" value="">
      {placeholder}
    </option>,
    ...models.map((model) => (
      <option key={model.id} value={model.id}>
        {model.manufacturer} {model.name}
      </option>
    )),
  ];
}

function RegisterProsthesis({ customer, models }: { customer: Customer; models: readonly Model[] }) {
  const m = useCrmMessages();
  const queryClient = useQueryClient();
  const form = useCrmForm(prosthesisFormSchema, { chip_id: '', serial_number: '', model_id: '' });
  const register = useMutation({
    mutationFn: registerProsthesis,
    onSuccess: (prosthesis) => {
      form.reset();
      rememberSave(queryClient, { entity: 'prostheses', id: prosthesis.id, etag: prosthesis.etag, pages: [customer.id] });
      void queryClient.invalidateQueries({ queryKey: crmQueries.customer(customer.id).queryKey });
    },
    onError: form.refused,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const data = form.check();
    if (data) register.mutate(prosthesisBody(data, customer.id));
  };
  return (
    <form className="form form--stacked" onSubmit={onSubmit} noValidate data-testid="register-form">
      <TextField id="chip_id" label={m.chipId} autoComplete="off" autoCapitalize="characters" spellCheck={false} error={form.errorOf('chip_id')} {...form.bind('chip_id')} />
      <TextField id="serial_number" label={m.serialNumber} autoComplete="off" spellCheck={false} error={form.errorOf('serial_number')} {...form.bind('serial_number')} />
      <SelectField id="prosthesis_model" label={m.model} error={form.errorOf('model_id')} {...form.bind('model_id')}>
        {modelOptions(models, m.chooseModel)}
      </SelectField>
      <SaveProblem failure={form.failure} onReload={() => form.reset()} fields={['chip_id', 'serial_number', 'model_id']} />
      <button type="submit" className="button" disabled={register.isPending}>
        {register.isPending ? m.saving : m.register}
      </button>
    </form>
  );
}

function OrderList({ orders }: { orders: CustomerDetail['orders'] }) {
  const m = useCrmMessages();
  const { format } = useI18n();
  if (orders.length === 0) return <p className="muted">{m.noOrders}</p>;
  return (
    <ul className="record-list card" data-testid="orders">
      {orders.map((order) => (
        <li key={order.id} className="record-list__item">
          <Link to="/operator/orders/$orderId" params={{ orderId: order.id }} className="record-list__title" aria-label={m.openOrder(order.model_name, format.dateTime(order.ordered_at))}>
            {order.model_name}
          </Link>
          <span className="small">
            <span className={`status status--${order.status}`} data-testid="order-status">
              {m.statuses[order.status]}
            </span>{' '}
            · {order.amount} {order.currency} · {format.dateTime(order.ordered_at)}
          </span>
        </li>
      ))}
    </ul>
  );
}

function NewOrder({ customer, models }: { customer: Customer; models: readonly Model[] }) {
  const m = useCrmMessages();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useCrmForm(orderFormSchema, { model_id: '', amount: '', currency: defaultCurrency(customer.region) });
  const create = useMutation({
    mutationFn: createOrder,
    onSuccess: (order) => {
      rememberSave(queryClient, { entity: 'orders', id: order.id, etag: order.etag, pages: [order.id, customer.id] });
      void queryClient.invalidateQueries({ queryKey: crmQueries.customer(customer.id).queryKey });
      void navigate({ to: '/operator/orders/$orderId', params: { orderId: order.id } });
    },
    onError: form.refused,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const data = form.check();
    if (data) create.mutate(orderBody(data, customer.id));
  };
  return (
    <details className="section card disclosure" data-testid="new-order">
      <summary>{m.newOrderTitle}</summary>
      <form className="form form--stacked" onSubmit={onSubmit} noValidate>
        <SelectField id="order_model" label={m.model} error={form.errorOf('model_id')} {...form.bind('model_id')}>
          {modelOptions(models, m.chooseModel)}
        </SelectField>
        <TextField id="amount" label={m.amount} inputMode="decimal" autoComplete="off" error={form.errorOf('amount')} {...form.bind('amount')} />
        <TextField id="currency" label={m.currency} autoComplete="off" autoCapitalize="characters" maxLength={3} error={form.errorOf('currency')} {...form.bind('currency')} />
        <SaveProblem failure={form.failure} onReload={() => form.reset()} fields={['model_id', 'amount', 'currency']} />
        <button type="submit" className="button" disabled={create.isPending} data-testid="create-order">
          {create.isPending ? m.saving : m.createOrder}
        </button>
      </form>
    </details>
  );
}
