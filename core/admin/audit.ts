import type { Context } from 'hono';
import type { Principal } from '../../common/auth/principal.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { actorOwnerRef } from '../reports/respond.ts';

/**
 * Every administrator read of someone else's reports leaves one audit line. Logs name people only
 * by owner ref (issue 11), the administrator as much as the person read; core maps a username to
 * its ref (owners.refOf) when an audit needs to find someone's lines.
 */
export async function auditAdminRead(c: Context<CoreEnv>, deps: CoreDeps, actor: Principal, targetOwner: string, document: string): Promise<void> {
  deps.logger.info('audit.admin_report_read', {
    requestId: c.get('requestId'),
    actor: await actorOwnerRef(c, deps, actor),
    targetOwner,
    document,
  });
}
