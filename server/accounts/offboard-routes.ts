// REST for offboarding a person from one co-op (server/accounts/offboard.ts):
// coop.offboard on the co-op (its admins), then, for each role taken away, at
// least that role there (the cover.* rules): nobody takes away more than they
// hold. A dry run answers the plan and changes nothing.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Deps } from '../http/env.js';
import { IdOrSlug, IfMatchHeader, jsonBody, jsonContent } from '../http/schemas.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { accountRef, coopRef } from '../authz/guard.js';
import { findCoop } from '../coops/service.js';
import { resolveScope } from '../grants/service.js';
import type { Principal } from '../auth/principal.js';
import type { ResourceRef } from '../../policies/evaluator.js';
import { holdingsOf } from '../../policies/holdings.js';
import { findAccount, type Account } from './service.js';
import { offboard, offboardPlan, planIsEmpty, rolesTakenAway, type OffboardPlan } from './offboard.js';
import { AccountParam, Reason, changeErrors } from './lifecycle-routes.js';

const OffboardBody = z
  .object({
    coop: IdOrSlug.openapi({ description: 'The co-op the person leaves, id or slug' }),
    reason: Reason,
    dryRun: z.boolean().default(false).openapi({ description: 'Answer what would be done, change nothing (no If-Match needed)' }),
  })
  .strict()
  .openapi('AccountOffboard');

const PlanOut = z
  .object({
    dryRun: z.boolean(),
    coop: z.string(),
    grants: z.array(z.object({ id: z.string(), role: z.string(), scope: z.object({ type: z.string(), id: z.string().optional() }) })),
    cascade: z.array(z.string()).openapi({ description: 'Grants of others delegated from those: revoked with them' }),
    memberships: z.array(z.object({ tenancy: z.string(), role: z.string() })),
    invitations: z.array(z.string()),
    homeCoopCleared: z.boolean(),
  })
  .openapi('AccountOffboardPlan');

const planOut = (p: OffboardPlan, dryRun: boolean) => ({
  dryRun,
  coop: p.coop,
  grants: p.grants.map((g) => ({ id: g.id, role: g.role, scope: g.scope })),
  cascade: p.cascade,
  memberships: p.memberships,
  invitations: p.invitations,
  homeCoopCleared: p.homeCoopCleared,
});

export function offboardRoutes(app: OpenAPIHono<AppEnv>, { db, guard }: Deps) {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{id}/offboard',
      tags: ['accounts'],
      summary: 'End a person\'s roles in one co-op; their roles elsewhere stay (If-Match required unless dryRun)',
      description:
        'Revokes the account\'s grants on the co-op and inside it (with everything delegated from them), ends its memberships of the co-op\'s ' +
        'tenancies and its open invitations to them, and clears its home co-op when it is this one: one change in the audit log. ' +
        'Needs coop.offboard on the co-op (its admins) and, for each role taken away, at least that role there. dryRun answers the plan.',
      request: { params: AccountParam, headers: IfMatchHeader, body: jsonBody(OffboardBody) },
      responses: { 200: jsonContent(PlanOut.extend({ revoked: z.array(z.string()).optional() }), 'Done, or what would be done'), ...changeErrors },
    }),
    async (c) => {
      const p = c.var.principal;
      const { coop: coopKey, reason, dryRun } = c.req.valid('json');
      const coop = await findCoop(db, coopKey);
      if (!coop || !(await guard.canRead(p, 'coop.read', coopRef(coop)))) throw problems.validation([{ path: 'coop', message: 'no such co-op' }]);
      const actor = await guard.allow(p, 'coop.offboard', coopRef(coop), 'co-op', 'coop.read');
      const found = await findAccount(db, c.req.valid('param').id);
      if (!found) throw problems.notFound('account');
      const plan = await offboardPlan(db, found, coop.id);
      // Someone with nothing in the co-op, whom the actor may not see, looks like no one.
      if (planIsEmpty(plan) && !(await guard.canRead(p, 'account.read', accountRef(found)))) throw problems.notFound('account');
      await allowTakingAway(p, found, plan);
      if (dryRun) return c.json(planOut(plan, true), 200);
      requireIfMatch(c.req.valid('header')['if-match'], found);
      const done = await offboard(db, actor, found, coop.id, reason);
      const after = (await findAccount(db, found.id))!;
      c.header('ETag', etagOf(after));
      return c.json({ ...planOut(done, false), revoked: done.revoked }, 200);
    },
  );

  /** Nobody takes away more than they hold: each role the plan ends must be covered by the actor (cover.*). */
  async function allowTakingAway(p: Principal, target: Account, plan: OffboardPlan): Promise<void> {
    for (const h of holdingsOf(rolesTakenAway(target, plan))) {
      const placed: ResourceRef = (await resolveScope(db, h.scope))?.resource ?? { type: 'Platform' };
      const d = await guard.authz.decide(p, h.action, placed);
      if (d.decision === 'allow') continue;
      await guard.authz.auditDenial(p, 'coop.offboard', { type: 'Coop', id: plan.coop }, d);
      throw problems.forbidden(
        `offboarding takes away a role you do not hold (${h.action.replace('cover.', '')} on ${h.scope.type === 'global' ? 'the platform' : `${h.scope.type} ${h.scope.id}`}): nobody takes away more than they hold`,
        { action: 'coop.offboard', reason: 'offboard-needs-every-role', policyIds: d.policyIds, policySetHash: d.policySetHash },
      );
    }
  }

}
