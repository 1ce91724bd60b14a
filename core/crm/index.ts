import type { OpenAPIHono } from '@hono/zod-openapi';
import { requireAccessToken } from '../../common/auth/bearer-auth.ts';
import { boundedBody } from '../../common/http/bounded-body.ts';
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
import { registerReplication } from './replication.ts';
import { registerViewProsthesis } from './prosthesis-view.ts';

/** Largest CRM request body accepted: generous for a customer, order or prosthesis record. */
export const CRM_BODY_MAX_BYTES = 64 * 1024;

/**
 * The CRM operator API. Every route needs an access token with the crm_operator role and a region
 * claim; an operator sees and changes only customers of that region (and their prostheses and
 * orders) — anything else answers 404, whatever the id.
 */
export function registerCrmRoutes(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  // Bodies bounded after the role check (issue 9): a CRM record is a few KiB, never a chunked gigabyte.
  app.use('/api/crm/*', requireAccessToken(deps.verifier, { realm: 'reports-api' }), requireOperator(), boundedBody(CRM_BODY_MAX_BYTES));
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
  registerReplication(app, deps);
}
