// REST for the right to erasure (server/accounts/erasure.ts): the person
// themselves, or whoever holds at least every role they hold (account.erase,
// under the takeover rule). Answers the receipt: what was deleted, and when.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Deps } from '../http/env.js';
import { IfMatchHeader, Timestamp, jsonBody, jsonContent } from '../http/schemas.js';
import { requireIfMatch } from '../http/etag.js';
import { eraseAccount } from './erasure.js';
import { AccountParam, ReasonBody, accountFor, changeErrors } from './lifecycle-routes.js';

const ReceiptOut = z
  .object({
    account: z.string(),
    erasedAt: Timestamp,
    deleted: z.record(z.string(), z.number().int()),
    grantsRevoked: z.array(z.string()),
    membershipsEnded: z.array(z.string()),
    auditPseudonymKeyDestroyed: z.boolean(),
  })
  .openapi('ErasureReceipt');

export function erasureRoutes(app: OpenAPIHono<AppEnv>, deps: Deps) {
  const { db } = deps;
  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts/{id}/erase',
      tags: ['accounts'],
      summary: 'Erase a person\'s personal data for good (the right to erasure; If-Match required); answers the receipt',
      description:
        'The person themselves, or whoever holds at least every role they hold. Deletes name and e-mail (tombstones remain), password, ' +
        'upstream links, tokens, invitations, exports and the audit pseudonym key; revokes grants and ends memberships. Refused (409) while ' +
        'the person is the only owner of a tenancy (only-owner) or the last platform admin (last-platform-admin).',
      request: { params: AccountParam, headers: IfMatchHeader, body: jsonBody(ReasonBody) },
      responses: { 200: jsonContent(ReceiptOut, 'What was deleted, and when'), ...changeErrors },
    }),
    async (c) => {
      const { account: found, actor } = await accountFor(deps, c.var.principal, c.req.valid('param').id, 'account.erase');
      requireIfMatch(c.req.valid('header')['if-match'], found);
      const receipt = await eraseAccount(db, actor, found, c.req.valid('json').reason);
      c.header('Cache-Control', 'no-store');
      return c.json(receipt, 200);
    },
  );
}
