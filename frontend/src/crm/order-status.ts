import type { Order, OrderStatus } from './crm-api.ts';

/**
 * The order form offers exactly the statuses core says this order may move to now
 * (`next_statuses`, from core/crm/order-workflow.ts): the app does not keep its own copy of the
 * workflow, so a change there cannot leave the form offering a step core refuses. Forward steps
 * come first and cancelling last, so the usual choice is the first one.
 */

/** The workflow's order (legacy `paid`/`shipped` sit where they join it), for display. */
export const STATUS_SEQUENCE: readonly OrderStatus[] = ['new', 'confirmed', 'paid', 'manufacturing', 'shipped', 'fitted', 'closed', 'cancelled'];

export function statusChoices(order: Pick<Order, 'status' | 'next_statuses'>): OrderStatus[] {
  const offered = new Set(order.next_statuses.filter((status) => status !== order.status));
  return STATUS_SEQUENCE.filter((status) => offered.has(status));
}

/** Closed and cancelled orders (any with nothing to move to) are read-only. */
export function isFinalStatus(order: Pick<Order, 'status' | 'next_statuses'>): boolean {
  return statusChoices(order).length === 0;
}

/** The status the form preselects: the next forward step, never cancelling by default. */
export function defaultChoice(order: Pick<Order, 'status' | 'next_statuses'>): OrderStatus | undefined {
  return statusChoices(order).find((status) => status !== 'cancelled');
}
