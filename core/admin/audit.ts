import type { Context } from 'hono';
import type { Principal } from '../../common/auth/principal.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';

/** Every administrator read of someone else's reports leaves one audit line. */
export function auditAdminRead(c: Context<CoreEnv>, deps: CoreDeps, actor: Principal, target: string, document: string): void {
  deps.logger.info('audit.admin_report_read', {
    requestId: c.get('requestId'),
    actor: actor.username,
    actorSubject: actor.subject,
    target,
    document,
  });
}
