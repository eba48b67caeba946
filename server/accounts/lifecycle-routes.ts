// REST for an account's lifecycle: suspend and reinstate here; offboarding
// (offboard-routes.ts) and erasure (erasure-routes.ts) beside. Each is a policy
// decision on the account (the takeover rule: the actor holds at least every
// role the account holds) or, for offboarding, on the co-op and on each role
// taken away; each needs If-Match with the account's ETag (GET /accounts/{id}).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Deps } from '../http/env.js';
import { IfMatchHeader, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { etagOf, requireIfMatch } from '../http/etag.js';
import { problems } from '../http/problem.js';
import { accountRef } from '../authz/guard.js';
import type { Principal } from '../auth/principal.js';
import { findAccount, type Account } from './service.js';
import { reinstateAccount, suspendAccount } from './lifecycle.js';

export const Reason = z.string().trim().min(1).max(500).openapi({ description: 'Why: kept in the audit log for good, so name no one in it' });
export const ReasonBody = z.object({ reason: Reason }).strict().openapi('AccountLifecycleReason');
export const AccountParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export const AccountOut = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    coopId: z.string().nullable(),
    platformAdmin: z.boolean(),
    suspendedAt: Timestamp.nullable(),
    erasedAt: Timestamp.nullable(),
    version: z.number().int(),
    createdAt: Timestamp,
  })
  .openapi('Account');

export function accountOut(a: Account) {
  return {
    id: a.id,
    email: a.email,
    name: a.name,
    coopId: a.coopId,
    platformAdmin: a.platformAdmin,
    suspendedAt: a.suspendedAt?.toISOString() ?? null,
    erasedAt: a.erasedAt?.toISOString() ?? null,
    version: a.version,
    createdAt: a.createdAt.toISOString(),
  };
}

export const changeErrors = {
  ...commonErrors,
  409: jsonContent(z.any(), 'Refused in this state (with the reason)'),
  412: jsonContent(z.any(), 'Changed meanwhile'),
  428: jsonContent(z.any(), 'If-Match missing'),
};

/** The account, or the same 404 for an unknown one and one the principal may not see. */
export async function accountFor({ db, guard }: Deps, p: Principal, id: string, action: string): Promise<{ account: Account; actor: Principal }> {
  const found = await findAccount(db, id);
  if (!found) throw problems.notFound('account');
  const actor = await guard.allow(p, action, accountRef(found), 'account', 'account.read');
  return { account: found, actor };
}

export function accountLifecycleRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { db } = deps;

  for (const [verb, action, summary] of [
    ['suspend', 'account.suspend', 'Suspend an account: every credential refused at once, grants kept (If-Match required)'],
    ['reinstate', 'account.reinstate', 'Reinstate a suspended account: its grants and memberships count again (If-Match required)'],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/accounts/{id}/${verb}`,
        tags: ['accounts'],
        summary,
        description:
          'Needs at least every role the account holds (policy account-takeover-needs-every-role). A suspended account cannot sign in ' +
          '(password, upstream provider, device flow); its personal access tokens, access tokens, refresh tokens and sessions are refused from the ' +
          'next request on, on every process. The last platform admin cannot be suspended.',
        request: { params: AccountParam, headers: IfMatchHeader, body: jsonBody(ReasonBody) },
        responses: { 200: jsonContent(AccountOut, 'The account now'), ...changeErrors },
      }),
      async (c) => {
        const { account: found, actor } = await accountFor(deps, c.var.principal, c.req.valid('param').id, action);
        requireIfMatch(c.req.valid('header')['if-match'], found);
        const { reason } = c.req.valid('json');
        const after = verb === 'suspend' ? await suspendAccount(db, actor, found, reason) : await reinstateAccount(db, actor, found, reason);
        c.header('ETag', etagOf(after));
        return c.json(accountOut(after), 200);
      },
    );
  }
}
