import type { OpenAPIHono } from '@hono/zod-openapi';
import { requireAccessToken } from '../../common/auth/bearer-auth.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { registerCreateCustomer } from './customer-create.ts';
import { registerEditCustomer } from './customer-edit.ts';
import { registerSearchCustomers } from './customers-search.ts';
import { registerViewCustomer } from './customer-view.ts';
import { registerListModels } from './models-list.ts';
import { requireOperator } from './operator.ts';
import { registerCreateOrder } from './order-create.ts';
import { registerChangeOrderStatus } from './order-status.ts';
import { registerViewOrder } from './order-view.ts';
import { registerAssignProsthesis } from './prosthesis-assign.ts';
import { registerRegisterProsthesis } from './prosthesis-register.ts';
import { registerViewProsthesis } from './prosthesis-view.ts';

/**
 * The CRM operator API. Every route needs an access token with the crm_operator role and a region
 * claim; an operator sees and changes only customers of that region (and their prostheses and
 * orders) — anything else answers 404, whatever the id.
 */
export function registerCrmRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  app.use('/api/crm/*', requireAccessToken(deps.verifier, { realm: 'reports-api' }), requireOperator());
  registerSearchCustomers(app, deps);
  registerCreateCustomer(app, deps);
  registerViewCustomer(app, deps);
  registerEditCustomer(app, deps);
  registerListModels(app, deps);
  registerRegisterProsthesis(app, deps);
  registerViewProsthesis(app, deps);
  registerAssignProsthesis(app, deps);
  registerCreateOrder(app, deps);
  registerViewOrder(app, deps);
  registerChangeOrderStatus(app, deps);
}
