// REST for the policy set: read it (ids, files, text, hash, schema), and have
// a decision explained: which policies name the action, which matched, why.
import { createRoute, z } from '@hono/zod-openapi';
import { router, type Deps } from '../http/env.js';
import { Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { problems } from '../http/problem.js';
import type { Principal } from '../auth/principal.js';
import { findAccount } from '../accounts/service.js';
import { Authz } from './authz.js';
import { findResource, READ_ACTION, RESOURCE_KINDS } from './resources.js';

const PolicyOut = z.object({ id: z.string(), file: z.string(), effect: z.enum(['permit', 'forbid']), text: z.string() }).openapi('Policy');
const PolicySetOut = z
  .object({
    hash: z.string().openapi({ description: 'SHA-256 (hex) of the RFC 8785 canonical JSON of {policy id: text}; in every audited decision' }),
    schemaHash: z.string(),
    schema: z.string().openapi({ description: 'The Cedar schema, in Cedar format' }),
    policies: z.array(PolicyOut),
    actions: z.array(z.object({ action: z.string(), resourceTypes: z.array(z.string()), groups: z.array(z.string()), changes: z.boolean() })),
  })
  .openapi('PolicySet');

const CheckIn = z
  .object({
    principal: Uuid.optional().openapi({ description: 'The account to decide for; you when absent' }),
    action: z.string().min(1).max(100),
    resource: z
      .object({ type: z.enum(RESOURCE_KINDS), id: z.string().min(1).max(100).optional() })
      .strict()
      .openapi({ description: 'platform (no id), or a coop, cluster, tenancy (id or slug), account or grant (id)' }),
  })
  .strict()
  .openapi('PolicyCheck');

const ExplanationOut = z
  .object({
    decision: z.enum(['allow', 'deny']),
    policyIds: z.array(z.string()),
    reasons: z.array(z.string()),
    policySetHash: z.string(),
    principal: z.object({ uid: z.string(), grants: z.array(z.object({ id: z.string(), role: z.string(), scope: z.string(), delegable: z.boolean() })), memberOf: z.array(z.string()) }),
    action: z.string(),
    resource: z.string(),
    policies: z.array(PolicyOut.extend({ matches: z.boolean(), errored: z.boolean() })),
  })
  .openapi('PolicyExplanation');

export function policyRoutes({ db }: Deps) {
  const app = router();
  const authz = new Authz(db);
  const ev = authz.evaluator;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/policies',
      tags: ['policies'],
      summary: 'The active policy set: every policy with its id, its hash, the schema and the actions',
      responses: { 200: jsonContent(PolicySetOut, 'The policy set'), ...commonErrors },
    }),
    async (c) => {
      await authz.require(c.var.principal, 'policy.read', { type: 'Platform' }, { what: 'policies' });
      const policies = ev.list();
      const actions = [...ev.actions].map(([action, info]) => ({ action, ...info }));
      c.header('ETag', `"${ev.policySetHash}"`);
      return c.json({ hash: ev.policySetHash, schemaHash: ev.schemaHash, schema: ev.source.schema, policies, actions }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/policies/check',
      tags: ['policies'],
      summary: 'Explain the decision for an account, an action and a resource (the grants as they are now)',
      request: { body: jsonBody(CheckIn) },
      responses: { 200: jsonContent(ExplanationOut, 'The decision and the policies behind it'), ...commonErrors },
    }),
    async (c) => {
      const me = c.var.principal;
      const body = c.req.valid('json');
      let subject: Principal = me;
      if (body.principal && body.principal !== me.accountId) {
        const account = await findAccount(db, body.principal);
        if (!account) throw problems.notFound('account');
        subject = { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'pat', tokenId: null };
      }
      const subjectRef = { type: 'Account' as const, id: subject.accountId, coopId: subject.coopId };
      await authz.require(me, 'policy.check', subjectRef, { what: 'account', readAction: 'account.read' });
      // Objects the caller cannot see answer 404, as they do everywhere else.
      const resource = await findResource(db, body.resource.type, body.resource.id);
      if (!resource || (await authz.decide(me, READ_ACTION[body.resource.type], resource)).decision !== 'allow') throw problems.notFound(body.resource.type);
      const x = await authz.explain(subject, body.action, resource);
      return c.json(x, 200);
    },
  );

  return app;
}
