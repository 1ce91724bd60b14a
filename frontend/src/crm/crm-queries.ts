import { queryOptions } from '@tanstack/react-query';
import { listModels, loadCustomer, loadOrder, searchCustomers } from './crm-api.ts';

/** The operator's reads; every key starts with `['crm']`, so one invalidation can reach them all. */
export const crmQueries = {
  all: ['crm'] as const,
  search: (q: string) => queryOptions({ queryKey: ['crm', 'search', q], queryFn: ({ signal }) => searchCustomers(q, 0, signal) }),
  customer: (id: string) => queryOptions({ queryKey: ['crm', 'customer', id], queryFn: ({ signal }) => loadCustomer(id, signal) }),
  order: (id: string) => queryOptions({ queryKey: ['crm', 'order', id], queryFn: ({ signal }) => loadOrder(id, signal) }),
  models: () => queryOptions({ queryKey: ['crm', 'models'], queryFn: ({ signal }) => listModels(signal), staleTime: 10 * 60_000 }),
};
