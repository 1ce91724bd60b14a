import { getRouteApi } from '@tanstack/react-router';
import { CustomerPage } from './CustomerPage.tsx';
import { CustomerSearchPage } from './CustomerSearchPage.tsx';
import { OrderPage } from './OrderPage.tsx';

/**
 * The CRM operator's pages as the router loads them: one chunk of their own (with zod and the
 * operator dictionary), fetched the first time an `/operator…` page is opened, so a prosthesis
 * owner's phone never downloads them. Parameters come through the routes' typed API, by id.
 */

const searchRoute = getRouteApi('/operator/');
const customerRoute = getRouteApi('/operator/customers/$customerId');
const orderRoute = getRouteApi('/operator/orders/$orderId');

export function OperatorSearchRoute() {
  const { q = '' } = searchRoute.useSearch();
  return <CustomerSearchPage key={q} q={q} />;
}

export function OperatorCustomerRoute() {
  const { customerId } = customerRoute.useParams();
  return <CustomerPage customerId={customerId} />;
}

export function OperatorOrderRoute() {
  const { orderId } = orderRoute.useParams();
  return <OrderPage orderId={orderId} />;
}
