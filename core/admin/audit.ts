import type { Context } from 'hono';
import type { Principal } from '../../common/auth/principal.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';

/**
 * Every administrator read of someone else's reports leaves one audit line. Logs name people only
 * pseudonymously (issue 11): the administrator by their Keycloak subject, the person read by their
 * report owner ref; Keycloak and core (refOf) map them back when an audit needs names.
 */
export function auditAdminRead(c: Context<CoreEnv>, deps: CoreDeps, actor: Principal, targetOwner: string, document: string): void {
  deps.logger.info('audit.admin_report_read', {
    requestId: c.get('requestId'),
    actorSubject: actor.subject,
    targetOwner,
    document,
  });
}
