// The Art. 20 export of a member who objected to a transfer: their personal
// data, kept out of the move, in a machine-readable form (JSON). Made in the
// switch's transaction, sealed under the master key, downloadable only by that
// member from their page (/me/exports/{id}) and announced by e-mail.
import { createHash } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { uuidv7 } from '../ids.js';
import { accounts, memberships } from '../accounts/table.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { recordings, rooms } from '../inventory/table.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { enqueueMail } from '../mail/outbox.js';
import { memberExports, transferObjections, type transfers } from './table.js';
import { isoOrNull } from '../time.js';
import { describeTarget } from './target.js';

export const MEMBER_EXPORT_FORMAT = 'meetplane.member-export/1';

export const label = (id: string) => `member-export:${id}`;

/** Everything meetplane holds about the member in this tenancy. */
async function exportContent(tx: Executor, t: typeof transfers.$inferSelect, accountId: string, now: Date) {
  const [account] = await tx.select().from(accounts).where(eq(accounts.id, accountId));
  const [tenancy] = await tx.select().from(tenancies).where(eq(tenancies.id, t.tenancyId));
  const [membership] = await tx.select().from(memberships).where(and(eq(memberships.tenancyId, t.tenancyId), eq(memberships.accountId, accountId)));
  const [objection] = await tx.select().from(transferObjections).where(and(eq(transferObjections.transferId, t.id), eq(transferObjections.accountId, accountId)));
  const [home] = account?.coopId ? await tx.select({ name: coops.name }).from(coops).where(eq(coops.id, account.coopId)) : [];
  const [source] = await tx.select({ name: coops.name, jurisdiction: coops.jurisdiction }).from(coops).where(eq(coops.id, t.sourceCoopId));
  const target = await describeTarget(tx, t);
  const roomRows = await tx.select({ meetingId: rooms.meetingId, name: rooms.name, firstSeenAt: rooms.firstSeenAt }).from(rooms).where(eq(rooms.tenancyId, t.tenancyId)).orderBy(asc(rooms.meetingId));
  const recordingRows = await tx.select().from(recordings).where(eq(recordings.tenancyId, t.tenancyId)).orderBy(asc(recordings.recordId));
  return {
    format: MEMBER_EXPORT_FORMAT,
    generatedAt: now.toISOString(),
    reason: 'You objected to the transfer of this tenancy: your personal data stays with the current co-operative and is not moved. This is a copy of it (GDPR Art. 20).',
    account: { id: accountId, email: account?.email ?? null, name: account?.name ?? null, homeCoop: home?.name ?? null, createdAt: isoOrNull(account?.createdAt) },
    tenancy: { id: t.tenancyId, name: tenancy?.name ?? null, slug: tenancy?.slug ?? null },
    membership: membership ? { role: membership.role, since: isoOrNull(membership.createdAt) } : null,
    transfer: { id: t.id, from: source ?? null, to: target ? { name: target.name, jurisdiction: target.jurisdiction } : null, objectedAt: isoOrNull(objection?.createdAt) },
    // What the member could reach as a member: the tenancy's rooms and recordings.
    rooms: roomRows.map((r) => ({ meetingId: r.meetingId, name: r.name, firstSeenAt: isoOrNull(r.firstSeenAt) })),
    recordings: recordingRows.map((r) => ({
      recordId: r.recordId,
      meetingId: r.meetingId,
      name: r.name,
      startTime: isoOrNull(r.startTime),
      endTime: isoOrNull(r.endTime),
      playback: r.formats.map((f) => ({ type: f.type, url: f.url })),
    })),
  };
}

/**
 * Makes, seals and stores the export of one objecting member, tells them by
 * e-mail and audits it (the hash only). Idempotent: a second call for the same
 * member and transfer returns the first export's id.
 */
export async function createMemberExport(
  tx: Tx,
  ctx: { box: SecretBox; actor: Principal; publicUrl: string; now: Date },
  t: typeof transfers.$inferSelect,
  accountId: string,
): Promise<string> {
  const [existing] = await tx.select({ id: memberExports.id }).from(memberExports).where(and(eq(memberExports.transferId, t.id), eq(memberExports.accountId, accountId)));
  if (existing) return existing.id;
  const content = await exportContent(tx, t, accountId, ctx.now);
  const json = JSON.stringify(content, null, 2);
  const id = uuidv7();
  const sha256 = createHash('sha256').update(json).digest('hex');
  await tx.insert(memberExports).values({ id, transferId: t.id, accountId, contentSealed: ctx.box.seal(json, label(id)), sha256 });
  if (content.account.email)
    await enqueueMail(tx, [
      {
        to: content.account.email,
        topic: `transfer:${t.id}:export`,
        subject: `Your data from ${content.tenancy.name ?? 'your tenancy'}`,
        body: [
          `Hello ${content.account.name ?? ''},`,
          '',
          `You objected to the move of "${content.tenancy.name}" to ${content.transfer.to?.name}. Your personal data was kept out of it.`,
          `A machine-readable copy of it (JSON) is ready for you: ${ctx.publicUrl}/me/exports/${id}`,
          `Its SHA-256 is ${sha256}.`,
        ].join('\n'),
      },
    ]);
  await appendAudit(tx, { actor: ctx.actor, action: 'transfer.member-export', subject: { type: 'transfer', id: t.id }, details: { member: person(accountId), export: id }, evidence: { 'member-export': sha256 } });
  return id;
}

/** Whose export `id` is (for the permission decision), if it exists. */
export async function memberExportOwner(db: Db, id: string): Promise<string | undefined> {
  const [row] = await db.select({ accountId: memberExports.accountId }).from(memberExports).where(eq(memberExports.id, id));
  return row?.accountId;
}

/** The export's JSON; the caller decided that the reader may have it (account.readExport). */
export async function openMemberExport(db: Db, box: SecretBox, id: string): Promise<{ json: string; sha256: string } | undefined> {
  const [row] = await db.select().from(memberExports).where(eq(memberExports.id, id));
  return row && { json: box.open(row.contentSealed, label(row.id)), sha256: row.sha256 };
}

/** The exports made for a member, newest first (for their page). */
export async function memberExportsOf(db: Db, accountId: string) {
  return db.select({ id: memberExports.id, transferId: memberExports.transferId, sha256: memberExports.sha256, createdAt: memberExports.createdAt }).from(memberExports).where(eq(memberExports.accountId, accountId)).orderBy(asc(memberExports.createdAt));
}
