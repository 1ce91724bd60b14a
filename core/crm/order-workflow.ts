import type { OrderStatus } from './schemas.ts';

/**
 * Which status an order may move to from each status. `paid` and `shipped` are statuses of orders
 * written before the workflow existed (and by the demo generator); they join it at the step they
 * correspond to. `closed` and `cancelled` are final.
 */
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  new: ['confirmed', 'cancelled'],
  confirmed: ['manufacturing', 'cancelled'],
  manufacturing: ['fitted', 'cancelled'],
  fitted: ['closed'],
  closed: [],
  cancelled: [],
  paid: ['manufacturing', 'cancelled'],
  shipped: ['fitted', 'cancelled'],
};

export function nextOrderStatuses(from: OrderStatus): OrderStatus[] {
  return [...(NEXT[from] ?? [])];
}

export function isAllowedTransition(from: OrderStatus, to: OrderStatus): boolean {
  return (NEXT[from] ?? []).includes(to);
}
