// REST for member invitations: invite by e-mail address, list, revoke. The
// same permission as setting the tenancy's members (membership.set); the
// person's answer is given on their own page (server/memberships/pages.tsx).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, Deps } from '../http/env.js';
import { Email, IdOrSlug, Timestamp, Uuid, commonErrors, jsonBody, jsonContent } from '../http/schemas.js';
import { PageQuery, decodeCursor, page, pageSchema } from '../http/pagination.js';
import { problems } from '../http/problem.js';
import { tenancyRef } from '../authz/guard.js';
import { findTenancy } from '../tenancies/service.js';
import { DEFAULT_INVITATION_DAYS, INVITATION_STATES, MAX_INVITATION_DAYS, invitationView, inviteMember, listInvitations, revokeInvitation } from './invitations.js';

const Role = z.enum(['owner', 'admin', 'member']);

const InvitationOut = z
  .object({
    id: z.string(),
    email: z.string().openapi({ description: 'The address as it was typed (lower-cased)' }),
    role: Role,
    state: z.enum(INVITATION_STATES),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    answeredAt: Timestamp.nullable().openapi({ description: 'When the person accepted or declined' }),
    revokedAt: Timestamp.nullable(),
  })
  .openapi('MemberInvitation');
const InvitationCreate = z
  .object({
    email: Email,
    role: Role,
    expiresInDays: z.number().int().min(1).max(MAX_INVITATION_DAYS).default(DEFAULT_INVITATION_DAYS),
  })
  .strict()
  .openapi('MemberInvitationCreate');
const InvitationParams = z.object({
  id: IdOrSlug,
  invitationId: Uuid.openapi({ param: { name: 'invitationId', in: 'path' } }),
});
const ListQuery = PageQuery.extend({ state: z.enum(INVITATION_STATES).optional().openapi({ description: 'Only invitations in this state' }) });

export function memberInvitationRoutes(app: OpenAPIHono<AppEnv>, { db, guard, config }: Deps): void {
  /** The tenancy and the actor allowed to manage its members (404 when the tenancy is not visible). */
  async function managing(p: AppEnv['Variables']['principal'], id: string) {
    const tenancy = await findTenancy(db, id);
    if (!tenancy) throw problems.notFound('tenancy');
    const actor = await guard.allow(p, 'membership.set', tenancyRef(tenancy), 'tenancy', 'tenancy.read');
    return { tenancy, actor };
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenancies/{id}/member-invitations',
      tags: ['tenancies'],
      summary: 'Invite someone to the tenancy by e-mail address; they become a member when they accept on their page',
      description:
        'Answers 202 with the same body whether or not the address belongs to an account. When it does, the person is told by mail and sees the invitation on /me. ' +
        'Inviting an address again while its invitation is open renews that invitation.',
      request: { params: z.object({ id: IdOrSlug }), body: jsonBody(InvitationCreate) },
      responses: { 202: jsonContent(InvitationOut, 'Invited'), ...commonErrors },
    }),
    async (c) => {
      const { tenancy, actor } = await managing(c.var.principal, c.req.valid('param').id);
      const input = c.req.valid('json');
      // Nobody hands out more than they hold: inviting to a role needs that role on the tenancy.
      await guard.allowMembershipRole(c.var.principal, tenancyRef(tenancy), input.role, 'membership.set');
      const row = await inviteMember(db, actor, tenancy, input, config.publicUrl);
      return c.json(invitationView(row), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenancies/{id}/member-invitations',
      tags: ['tenancies'],
      summary: "The tenancy's member invitations, newest first",
      request: { params: z.object({ id: IdOrSlug }), query: ListQuery },
      responses: { 200: jsonContent(pageSchema(InvitationOut), 'A page of invitations'), ...commonErrors },
    }),
    async (c) => {
      const { tenancy } = await managing(c.var.principal, c.req.valid('param').id);
      const { limit, cursor, state } = c.req.valid('query');
      const pg = page(await listInvitations(db, tenancy.id, { state, before: decodeCursor(cursor), limit }), limit);
      const now = new Date();
      return c.json({ items: pg.items.map((r) => invitationView(r, now)), nextCursor: pg.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenancies/{id}/member-invitations/{invitationId}',
      tags: ['tenancies'],
      summary: 'Revoke a pending invitation',
      request: { params: InvitationParams },
      responses: { 204: { description: 'Revoked' }, ...commonErrors, 409: jsonContent(z.any(), 'Answered, revoked or expired already') },
    }),
    async (c) => {
      const { id, invitationId } = c.req.valid('param');
      const { tenancy, actor } = await managing(c.var.principal, id);
      await revokeInvitation(db, actor, tenancy.id, invitationId);
      return c.body(null, 204);
    },
  );
}
