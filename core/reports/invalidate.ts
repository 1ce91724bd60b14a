import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getPrincipal } from '../../common/auth/bearer-auth.ts';
import { USERNAME_PATTERN } from '../../common/auth/principal.ts';
import { OWNER_REF_PATTERN } from '../../common/identity/owner-ref.ts';
import { boundedBody } from '../../common/http/bounded-body.ts';
import { bearerSecurity, errorResponseDoc } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';
import type { CoreDeps } from '../deps.ts';
import { userPrefix } from './keys.ts';
import { actorOwnerRef, assertRole } from './respond.ts';
import { commonErrors } from './schemas.ts';

/** Owners are named by their report owner refs (docs/data-model.md), never by username. */
const ownerRef = z.string().regex(OWNER_REF_PATTERN, 'not an owner ref (32 characters a–z, 2–7)');

export const InvalidateRequestSchema = z
  .union([
    z.object({ user_ids: z.array(ownerRef).min(1).max(10_000) }).strict(),
    // The administrator's view names a person by username; core maps it to the ref as for reads.
    z.object({ usernames: z.array(z.string().regex(USERNAME_PATTERN, 'not a username')).min(1).max(1_000) }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ])
  .openapi('InvalidateRequest', { example: { user_ids: ['ncvjy4jxtohxag5lkvuw6rjqwfzssj5a'] } });

/** At most this many deleted keys are listed back; the count is always exact. */
const LISTED_KEYS = 1000;

export const InvalidateResponseSchema = z
  .object({
    scope: z.union([z.literal('all'), z.array(z.string())]),
    deleted_objects: z.number().int(),
    deleted_keys: z.array(z.string()).openapi({ description: `The deleted keys (first ${LISTED_KEYS})` }),
    purge: z
      .object({
        attempted: z.boolean(),
        ok: z.boolean(),
        status: z.number().int().optional(),
        error: z.string().optional(),
        response: z.unknown().optional(),
      })
      .openapi({ description: 'The CDN edge purge (best effort: S3 is the source of truth)' }),
  })
  .openapi('InvalidateResult');
export type InvalidateResponse = z.infer<typeof InvalidateResponseSchema>;

export const invalidateReportsRoute = createRoute({
  method: 'post',
  path: '/api/reports/invalidate',
  tags: ['cache'],
  summary: 'Drop cached reports of some owners (by owner ref) or all: every core replica’s memory, S3 and the CDN edge',
  description:
    'For the jobs service after an ETL load (client-credentials token) and for administrators. Answers 503 naming redis when the ' +
    'per-user versions could not be bumped (S3 and the edge were cleaned anyway; retrying is safe).',
  security: bearerSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: InvalidateRequestSchema } } } },
  responses: {
    200: { description: 'What was deleted, and how the purge went', content: { 'application/json': { schema: InvalidateResponseSchema } } },
    422: errorResponseDoc('Body is not {user_ids:[owner refs]}, {usernames:[…]} or {all:true}'),
    ...commonErrors,
  },
});

export function registerInvalidateReports(app: OpenAPIHono<CoreEnv>, deps: CoreDeps): void {
  // 10 000 user ids fit well within 1 MiB; the body is read only after the token passed (app.ts).
  app.openapi({ ...invalidateReportsRoute, middleware: [boundedBody(1_048_576)] as const }, async (c) => {
    const principal = getPrincipal(c);
    assertRole(principal, [deps.config.SERVICE_ROLE, deps.config.ADMIN_ROLE]);
    const body = c.req.valid('json');
    const users =
      'all' in body
        ? ('all' as const)
        : [...new Set('usernames' in body ? await Promise.all(body.usernames.map((username) => deps.owners.refOf(username))) : body.user_ids)];
    // Versions in Redis first (every replica drops its copies), then this process, then S3.
    const { deletedKeys: deleted, versionError } = await deps.reportCache.invalidate(users);
    deps.metrics.invalidatedObjects.inc({}, deleted.length);

    const purge = await deps.cdnPurger.purge(users === 'all' ? { all: true } : { prefixes: users.map(userPrefix) });
    deps.logger.info('reports.invalidated', {
      requestId: c.get('requestId'),
      actor: await actorOwnerRef(c, deps, principal),
      actorClient: principal.clientId,
      scope: users === 'all' ? 'all' : users.length > 20 ? `${users.length} users` : users,
      deletedObjects: deleted.length,
      purgeOk: purge.ok,
      purgeStatus: purge.status,
      purgeError: purge.error,
      versionsBumped: versionError === undefined,
    });
    // S3 and the edge are clean, but replicas that reach Redis may still hold copies: retry.
    if (versionError !== undefined) throw versionError;
    return c.json({ scope: users, deleted_objects: deleted.length, deleted_keys: deleted.slice(0, LISTED_KEYS), purge }, 200);
  });
}
