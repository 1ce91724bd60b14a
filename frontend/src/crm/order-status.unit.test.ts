import { describe, expect, test } from 'bun:test';
import { ORDER_STATUSES, type OrderStatus } from '../../../core/crm/schemas.ts';
import { nextOrderStatuses } from '../../../core/crm/order-workflow.ts';
import { defaultChoice, isFinalStatus, statusChoices } from './order-status.ts';

const order = (status: OrderStatus, next_statuses: OrderStatus[] = nextOrderStatuses(status)) => ({ status, next_statuses });

describe('order status choices', () => {
  test('offer exactly what core allows next, forward steps before cancelling', () => {
    expect(statusChoices(order('new'))).toEqual(['confirmed', 'cancelled']);
    expect(statusChoices(order('confirmed'))).toEqual(['manufacturing', 'cancelled']);
    expect(statusChoices(order('manufacturing'))).toEqual(['fitted', 'cancelled']);
    expect(statusChoices(order('fitted'))).toEqual(['closed']);
    expect(statusChoices(order('paid'))).toEqual(['manufacturing', 'cancelled']);
    expect(statusChoices(order('shipped'))).toEqual(['fitted', 'cancelled']);
  });

  test('every status core knows: the choices are core’s list, reordered, nothing added', () => {
    for (const status of ORDER_STATUSES) expect([...statusChoices(order(status))].sort()).toEqual(nextOrderStatuses(status).sort());
  });

  test('the API’s list is the authority, even one the app would not expect', () => {
    expect(statusChoices(order('new', ['cancelled']))).toEqual(['cancelled']);
    expect(statusChoices(order('new', ['new', 'confirmed']))).toEqual(['confirmed']);
  });

  test('closed and cancelled are final; the default is never cancelling', () => {
    expect(isFinalStatus(order('closed'))).toBe(true);
    expect(isFinalStatus(order('cancelled'))).toBe(true);
    expect(isFinalStatus(order('new'))).toBe(false);
    expect(defaultChoice(order('new'))).toBe('confirmed');
    expect(defaultChoice(order('fitted'))).toBe('closed');
    expect(defaultChoice(order('new', ['cancelled']))).toBeUndefined();
    expect(defaultChoice(order('closed'))).toBeUndefined();
  });
});
