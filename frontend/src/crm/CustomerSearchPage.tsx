import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { PageHeading } from '../ui/PageHeading.tsx';
import { ErrorState, LoadingState } from '../ui/StatusViews.tsx';
import { createCustomer } from './crm-api.ts';
import { newCustomerBody, newCustomerFormSchema } from './crm-forms.ts';
import { useCrmMessages } from './crm-messages.ts';
import { crmQueries } from './crm-queries.ts';
import { SaveProblem, TextField, useCrmForm } from './form-parts.tsx';

/** Find a customer of the operator's region (the query is in the URL: Back returns to the results). */
export function CustomerSearchPage({ q }: { q: string }) {
  const m = useCrmMessages();
  const navigate = useNavigate();
  const [text, setText] = useState(q);
  const results = useQuery(crmQueries.search(q));

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ to: '/operator', search: text.trim() ? { q: text.trim() } : {} });
  };

  return (
    <main id="main" className="page">
      <PageHeading>{m.searchTitle}</PageHeading>
      <form className="form section" role="search" onSubmit={onSearch}>
        <label htmlFor="crm-search">{m.searchLabel}</label>
        <div className="form__row">
          <input id="crm-search" type="search" autoComplete="off" spellCheck={false} value={text} onChange={(event) => setText(event.target.value)} aria-describedby="crm-search-hint" data-testid="crm-search" />
          <button type="submit" className="button" data-testid="crm-search-submit">
            {m.searchButton}
          </button>
        </div>
        <p id="crm-search-hint" className="muted small">
          {m.searchHint}
        </p>
      </form>

      <section className="section" aria-labelledby="results-title" aria-live="polite">
        <h2 id="results-title" className="visually-hidden">
          {m.searchTitle}
        </h2>
        {results.isPending ? (
          <LoadingState />
        ) : results.isError ? (
          <ErrorState error={results.error} onRetry={() => void results.refetch()} />
        ) : results.data.items.length === 0 ? (
          <p data-testid="crm-no-results">{m.noResults}</p>
        ) : (
          <>
            <p className="muted small">{m.resultsCount(results.data.items.length, results.data.total)}</p>
            <ul className="record-list" data-testid="crm-results">
              {results.data.items.map((customer) => (
                <li key={customer.id} className="record-list__item">
                  <Link to="/operator/customers/$customerId" params={{ customerId: customer.id }} className="record-list__title">
                    {customer.full_name}
                  </Link>
                  <span className="muted small">
                    {customer.username} · {customer.email}
                    {customer.phone ? ` · ${customer.phone}` : ''}
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <NewCustomer />
    </main>
  );
}

function NewCustomer() {
  const m = useCrmMessages();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useCrmForm(newCustomerFormSchema, { username: '', full_name: '', email: '', phone: '' });
  const create = useMutation({
    mutationFn: createCustomer,
    onSuccess: (customer) => {
      void queryClient.invalidateQueries({ queryKey: ['crm', 'search'] });
      void navigate({ to: '/operator/customers/$customerId', params: { customerId: customer.id } });
    },
    onError: form.refused,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const data = form.check();
    if (data) create.mutate(newCustomerBody(data));
  };
  const fields = ['username', 'full_name', 'email', 'phone'] as const;
  return (
    <details className="section card disclosure">
      <summary>{m.newCustomerTitle}</summary>
      <form className="form form--stacked" onSubmit={onSubmit} noValidate>
        <TextField id="username" label={m.username} autoComplete="off" autoCapitalize="none" spellCheck={false} error={form.errorOf('username')} {...form.bind('username')} />
        <TextField id="full_name" label={m.fullName} autoComplete="off" error={form.errorOf('full_name')} {...form.bind('full_name')} />
        <TextField id="email" label={m.email} type="email" inputMode="email" autoComplete="off" error={form.errorOf('email')} {...form.bind('email')} />
        <TextField id="phone" label={m.phone} type="tel" inputMode="tel" autoComplete="off" error={form.errorOf('phone')} {...form.bind('phone')} />
        <SaveProblem failure={form.failure} onReload={() => form.reset()} fields={fields} />
        <button type="submit" className="button" disabled={create.isPending}>
          {create.isPending ? m.saving : m.createCustomer}
        </button>
      </form>
    </details>
  );
}
