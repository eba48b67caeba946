// Another co-op's people (issue 11, finding 6): a co-op admin cannot add
// another co-op's account to their tenancy and read its name and e-mail
// address; unknown and hidden account ids answer the same. People the admin may
// not add directly are invited by address, and become members only when they
// accept (the page itself is tested in a browser: invitation-page.db.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeFeed } from '../../server/cache/change-feed.js';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditCount, coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { rowsOf } from '../../server/db/index.js';
import { answerInvitation } from '../../server/memberships/invitations.js';
import type { Principal } from '../../server/auth/principal.js';

let s: TestServer;
let coopA: { id: string };
let coopB: { id: string };
let tenancyA: { id: string; slug: string };
let adminA: { accountId: string; token: string };
let personB: { accountId: string; token: string; email: string };

async function accountOf(coop: string) {
  const who = await memberWithToken(s, coop);
  const shown = await s.api('GET', `/api/v1/accounts/${who.accountId}`);
  return { ...who, email: shown.json.email as string };
}

const asMember = (a: { accountId: string }, coopId: string): Principal => ({ accountId: a.accountId, coopId, platformAdmin: false, via: 'oidc', tokenId: null });

async function memberIds(tenancy: string): Promise<string[]> {
  const res = await s.api('GET', `/api/v1/tenancies/${tenancy}/members`);
  return res.json.items.map((m: { accountId: string }) => m.accountId);
}

async function mailsAbout(invitationId: string) {
  return rowsOf<{ to_address: string; subject: string; body: string }>(
    await s.database.db.execute(sql`select to_address, subject, body from mail_outbox where topic = ${'member-invitation:' + invitationId}`),
  );
}

/** Every audit entry about the tenancy, as text. */
async function auditAbout(tenancyId: string) {
  return rowsOf<{ action: string; entry: string }>(
    await s.database.db.execute(sql`select action, convert_from(entry, 'UTF8') as entry from audit_entries where subject_id = ${tenancyId} order by idx`),
  );
}

beforeAll(async () => {
  s = await startTestServer();
  coopA = await createCoop(s, { name: 'North Co-op' });
  coopB = await createCoop(s, { name: 'South Co-op' });
  tenancyA = await createTenancy(s, coopA.id, (await createCluster(s, coopA.id)).id, { name: 'Riverside School' });
  adminA = await coopAdminWithToken(s, coopA.id);
  personB = await accountOf(coopB.id);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe('adding members directly', () => {
  it("refuses another co-op's account exactly like an unknown id, and lists nothing of it", async () => {
    const before = await auditCount(s);
    const foreign = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${personB.accountId}`, { token: adminA.token, body: { role: 'member' } });
    const unknownId = randomUUID();
    const unknown = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${unknownId}`, { token: adminA.token, body: { role: 'member' } });
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(foreign.json)).toEqual(strip(unknown.json));
    expect(foreign.json.detail).toBe('account not found');
    expect(await memberIds(tenancyA.id)).not.toContain(personB.accountId);
    const listed = await s.api('GET', `/api/v1/tenancies/${tenancyA.id}/members`, { token: adminA.token });
    expect(listed.text).not.toContain(personB.email);
    expect(await auditCount(s)).toBe(before);
  });

  it("answers a tenancy owner the same for its own co-op's account it may not see as for an unknown id", async () => {
    const owner = await memberWithToken(s, coopA.id);
    expect((await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${owner.accountId}`, { body: { role: 'owner' } })).status).toBe(204);
    const colleague = await memberWithToken(s, coopA.id);
    const hidden = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${colleague.accountId}`, { token: owner.token, body: { role: 'member' } });
    const unknown = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${randomUUID()}`, { token: owner.token, body: { role: 'member' } });
    expect([hidden.status, unknown.status]).toEqual([404, 404]);
    expect({ ...hidden.json, instance: undefined }).toEqual({ ...unknown.json, instance: undefined });
    expect(await memberIds(tenancyA.id)).not.toContain(colleague.accountId);
  });

  it("tells a platform admin, who sees every account, to invite another co-op's account instead", async () => {
    const res = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${personB.accountId}`, { body: { role: 'member' } });
    expect(res.status).toBe(409);
    expect(res.json.type).toBe('https://meetplane.org/problems/invitation-required');
    expect(await memberIds(tenancyA.id)).not.toContain(personB.accountId);
  });

  it("still adds an account of the tenancy's own co-op, and changes the role of a member", async () => {
    const colleague = await memberWithToken(s, coopA.id);
    const put = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${colleague.accountId}`, { token: adminA.token, body: { role: 'member' } });
    expect(put.status, put.text).toBe(204);
    const again = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${colleague.accountId}`, { token: adminA.token, body: { role: 'admin' } });
    expect(again.status).toBe(204);
    const listed = await s.api('GET', `/api/v1/tenancies/${tenancyA.id}/members`, { token: adminA.token });
    expect(listed.json.items).toContainEqual(expect.objectContaining({ accountId: colleague.accountId, role: 'admin' }));
    const entries = (await auditAbout(tenancyA.id)).filter((e) => e.action.startsWith('membership.'));
    expect(entries.slice(-2).map((e) => e.action)).toEqual(['membership.create', 'membership.update']);
    expect(entries.map((e) => e.entry).join('\n')).not.toContain(colleague.accountId);
  });

  it('refuses to add, without their consent, an account of the co-op holding more than the admin', async () => {
    const otherAdmin = await coopAdminWithToken(s, coopB.id);
    // An account of co-op A that is co-op B's admin: co-op A's admin does not hold that.
    await s.database.db.execute(sql`update accounts set coop_id = ${coopA.id} where id = ${otherAdmin.accountId}`);
    // Written by SQL, not through the API: the database announces it to this process's caches a moment later; say it now.
    changeFeed(s.database.db).bump('accounts');
    const res = await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${otherAdmin.accountId}`, { token: adminA.token, body: { role: 'member' } });
    expect(res.status, res.text).toBe(403);
    expect(await memberIds(tenancyA.id)).not.toContain(otherAdmin.accountId);
  });
});

describe('invitations', () => {
  it('answers the same for an address without an account as for one with, and e-mails only the person', async () => {
    const known = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: adminA.token, body: { email: personB.email.toUpperCase(), role: 'member' } });
    const strangerEmail = `nobody-${randomUUID()}@example.org`;
    const unknown = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: adminA.token, body: { email: strangerEmail, role: 'member' } });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    const shape = (b: Record<string, unknown>) => ({ ...b, id: typeof b.id, email: typeof b.email, createdAt: typeof b.createdAt, expiresAt: typeof b.expiresAt });
    expect(shape(known.json)).toEqual(shape(unknown.json));
    expect(Object.keys(known.json).sort()).toEqual(Object.keys(unknown.json).sort());
    expect(known.json).toMatchObject({ email: personB.email, role: 'member', state: 'pending', answeredAt: null, revokedAt: null });
    expect(unknown.json).toMatchObject({ email: strangerEmail, role: 'member', state: 'pending' });
    // 14 days by default.
    expect(Date.parse(known.json.expiresAt) - Date.parse(known.json.createdAt)).toBe(14 * 86_400_000);

    // The inviter's list shows both the same way.
    const list = await s.api('GET', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: adminA.token });
    expect(list.status).toBe(200);
    const [a, b] = [known.json.id, unknown.json.id].map((id) => list.json.items.find((i: { id: string }) => i.id === id));
    expect(shape(a)).toEqual(shape(b));

    const mails = await mailsAbout(known.json.id);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to_address).toBe(personB.email);
    expect(mails[0]!.subject).toBe('Invitation to join Riverside School');
    expect(mails[0]!.body).toContain('/me');
    expect(await mailsAbout(unknown.json.id)).toEqual([]);

    // Audited, without addresses.
    const entries = await auditAbout(tenancyA.id);
    const created = entries.filter((e) => e.action === 'membership-invitation.create');
    expect(created.length).toBeGreaterThanOrEqual(2);
    const text = entries.map((e) => e.entry).join('\n');
    expect(text).not.toContain(personB.email);
    expect(text).not.toContain(strangerEmail);
    expect(text).not.toContain(personB.accountId);
  });

  it('is refused to whoever may not set the members, as the tenancy itself is (404 or 403)', async () => {
    const outsider = await memberWithToken(s, coopB.id);
    const res = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: outsider.token, body: { email: 'x@example.org', role: 'member' } });
    expect(res.status).toBe(404);
    const list = await s.api('GET', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: outsider.token });
    expect(list.status).toBe(404);
    const plain = await memberWithToken(s, coopA.id);
    await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${plain.accountId}`, { body: { role: 'member' } });
    expect((await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: plain.token, body: { email: 'x@example.org', role: 'owner' } })).status).toBe(403);
  });

  it('makes the person a member when they accept, never before; a decline, a revoked or an expired invitation does not', async () => {
    const tenancy = await createTenancy(s, coopA.id, (await createCluster(s, coopA.id)).id);
    const invite = async (email: string, role = 'member', extra: Record<string, unknown> = {}) => {
      const res = await s.api('POST', `/api/v1/tenancies/${tenancy.id}/member-invitations`, { token: adminA.token, body: { email, role, ...extra } });
      expect(res.status, res.text).toBe(202);
      return res.json.id as string;
    };
    const accepting = await accountOf(coopB.id);
    const declining = await accountOf(coopB.id);
    const revoked = await accountOf(coopB.id);
    const first = await invite(accepting.email, 'admin');
    // Inviting the same address again renews the open invitation.
    const renewed = await invite(accepting.email, 'admin', { expiresInDays: 30 });
    expect(renewed).toBe(first);
    const second = await invite(declining.email);
    const third = await invite(revoked.email);
    expect(await memberIds(tenancy.id)).toEqual([]);

    // Only the person it was sent to may answer; for anyone else it does not exist.
    await expect(answerInvitation(s.database.db, asMember(declining, coopB.id), first, 'accept')).rejects.toMatchObject({ status: 404 });
    await answerInvitation(s.database.db, asMember(accepting, coopB.id), first, 'accept');
    await answerInvitation(s.database.db, asMember(declining, coopB.id), second, 'decline');
    await expect(answerInvitation(s.database.db, asMember(declining, coopB.id), second, 'accept')).rejects.toMatchObject({ status: 409 });
    expect((await s.api('DELETE', `/api/v1/tenancies/${tenancy.id}/member-invitations/${third}`, { token: adminA.token })).status).toBe(204);
    await expect(answerInvitation(s.database.db, asMember(revoked, coopB.id), third, 'accept')).rejects.toMatchObject({ status: 409 });
    expect((await s.api('DELETE', `/api/v1/tenancies/${tenancy.id}/member-invitations/${third}`, { token: adminA.token })).status).toBe(409);
    expect((await s.api('DELETE', `/api/v1/tenancies/${tenancy.id}/member-invitations/${randomUUID()}`, { token: adminA.token })).status).toBe(404);

    // The member list shows the one who accepted, with the role they were invited to.
    const members = await s.api('GET', `/api/v1/tenancies/${tenancy.id}/members`, { token: adminA.token });
    expect(members.json.items).toEqual([expect.objectContaining({ accountId: accepting.accountId, role: 'admin', email: accepting.email })]);

    const list = await s.api('GET', `/api/v1/tenancies/${tenancy.id}/member-invitations`, { token: adminA.token });
    const state = (id: string) => list.json.items.find((i: { id: string }) => i.id === id).state;
    expect([state(first), state(second), state(third)]).toEqual(['accepted', 'declined', 'revoked']);
    const pending = await s.api('GET', `/api/v1/tenancies/${tenancy.id}/member-invitations?state=pending`, { token: adminA.token });
    expect(pending.json.items).toEqual([]);

    // An expired invitation can no longer be accepted.
    const late = await accountOf(coopB.id);
    const fourth = await invite(late.email);
    await s.database.db.execute(sql`update member_invitations set expires_at = now() - interval '1 second' where id = ${fourth}`);
    await expect(answerInvitation(s.database.db, asMember(late, coopB.id), fourth, 'accept')).rejects.toMatchObject({ status: 409 });
    expect((await s.api('GET', `/api/v1/tenancies/${tenancy.id}/member-invitations?state=expired`, { token: adminA.token })).json.items.map((i: { id: string }) => i.id)).toEqual([fourth]);
    expect(await memberIds(tenancy.id)).toEqual([accepting.accountId]);

    const actions = (await auditAbout(tenancy.id)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['membership-invitation.create', 'membership-invitation.renew', 'membership-invitation.accept', 'membership.create', 'membership-invitation.decline', 'membership-invitation.revoke']),
    );
    // The membership commits with the acceptance: its entry follows the accept.
    expect(actions.indexOf('membership.create')).toBe(actions.indexOf('membership-invitation.accept') + 1);
  });

  it('lets a tenancy admin invite to no role above their own', async () => {
    const tenancyAdmin = await memberWithToken(s, coopA.id);
    expect((await s.api('PUT', `/api/v1/tenancies/${tenancyA.id}/members/${tenancyAdmin.accountId}`, { body: { role: 'admin' } })).status).toBe(204);
    const email = `promoted-${randomUUID()}@example.org`;
    const owner = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: tenancyAdmin.token, body: { email, role: 'owner' } });
    expect(owner.status, owner.text).toBe(403);
    const admin = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: tenancyAdmin.token, body: { email, role: 'admin' } });
    expect(admin.status, admin.text).toBe(202);
    const listed = await s.api('GET', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: tenancyAdmin.token });
    expect(listed.json.items.filter((i: { email: string }) => i.email === email).map((i: { role: string }) => i.role)).toEqual(['admin']);
  });

  it('validates the body: address, role and expiry', async () => {
    for (const body of [{ email: 'not-an-address', role: 'member' }, { email: 'a@example.org', role: 'boss' }, { email: 'a@example.org', role: 'member', expiresInDays: 0 }, { email: 'a@example.org', role: 'member', extra: 1 }]) {
      const res = await s.api('POST', `/api/v1/tenancies/${tenancyA.id}/member-invitations`, { token: adminA.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});
