import { requestJsonWithHeaders, type RequestOptions } from '../http/request.ts';
import type { Customer, Order, OrderStatus, Prosthesis } from '../../../core/crm/schemas.ts';
import type { CreateCustomerBody } from '../../../core/crm/customer-create.ts';
import type { EditCustomerBody } from '../../../core/crm/customer-edit.ts';
import type { CreateOrderBody } from '../../../core/crm/order-create.ts';
import type { RegisterProsthesisBody } from '../../../core/crm/prosthesis-register.ts';
import { ifMatch, versioned, type Versioned } from './etag.ts';

/**
 * The CRM operator API (core/crm, through the BFF's /api proxy). Wire types are core's own
 * (type-only). Every record read comes with its version; every update sends it back as If-Match.
 */
export type { CreateCustomerBody, CreateOrderBody, Customer, EditCustomerBody, Order, OrderStatus, Prosthesis, RegisterProsthesisBody };

export interface CustomerPage {
  items: Customer[];
  total: number;
  limit: number;
  offset: number;
}
export interface CustomerDetail {
  customer: Customer;
  prostheses: Prosthesis[];
  orders: Order[];
}
/** A catalogue entry (core/crm/models-list.ts). */
export interface Model {
  id: string;
  manufacturer: string;
  name: string;
  kind: 'hand' | 'arm' | 'leg' | 'foot';
}

async function send<T extends object>(path: string, options: RequestOptions = {}): Promise<Versioned<T>> {
  const { body, headers } = await requestJsonWithHeaders<T>(path, options);
  return versioned(body, headers.get('etag'));
}

const id = (value: string) => encodeURIComponent(value);

export async function searchCustomers(q: string, offset = 0, signal?: AbortSignal): Promise<CustomerPage> {
  const query = new URLSearchParams({ q, limit: '20', offset: String(offset) });
  return (await requestJsonWithHeaders<CustomerPage>(`/api/crm/customers?${query}`, { signal })).body;
}

export async function loadCustomer(customerId: string, signal?: AbortSignal): Promise<CustomerDetail> {
  return (await requestJsonWithHeaders<CustomerDetail>(`/api/crm/customers/${id(customerId)}`, { signal })).body;
}

export function createCustomer(body: CreateCustomerBody): Promise<Versioned<Customer>> {
  return send<Customer>('/api/crm/customers', { method: 'POST', body });
}

export function editCustomer(customerId: string, etag: string, body: EditCustomerBody): Promise<Versioned<Customer>> {
  return send<Customer>(`/api/crm/customers/${id(customerId)}`, { method: 'PATCH', body, headers: ifMatch(etag) });
}

export async function listModels(signal?: AbortSignal): Promise<Model[]> {
  return (await requestJsonWithHeaders<{ items: Model[] }>('/api/crm/models', { signal })).body.items;
}

export function registerProsthesis(body: RegisterProsthesisBody): Promise<Versioned<Prosthesis>> {
  return send<Prosthesis>('/api/crm/prostheses', { method: 'POST', body });
}

export function reassignProsthesis(prosthesisId: string, etag: string, customerId: string): Promise<Versioned<Prosthesis>> {
  return send<Prosthesis>(`/api/crm/prostheses/${id(prosthesisId)}/customer`, { method: 'PUT', body: { customer_id: customerId }, headers: ifMatch(etag) });
}

export function createOrder(body: CreateOrderBody): Promise<Versioned<Order>> {
  return send<Order>('/api/crm/orders', { method: 'POST', body });
}

export function loadOrder(orderId: string, signal?: AbortSignal): Promise<Versioned<Order>> {
  return send<Order>(`/api/crm/orders/${id(orderId)}`, { signal });
}

export function changeOrderStatus(orderId: string, etag: string, status: OrderStatus): Promise<Versioned<Order>> {
  return send<Order>(`/api/crm/orders/${id(orderId)}/status`, { method: 'PUT', body: { status }, headers: ifMatch(etag) });
}
