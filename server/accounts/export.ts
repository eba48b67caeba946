// A person's export of everything meetplane holds about them (GDPR Art. 15
// access and Art. 20 portability), as one JSON document: the account, how it
// logs in (never the password hash), memberships, grants, tokens (never the
// token), invitations, what transfers recorded about them, their Art. 20
// exports, the mails sent to them, and the audit log entries made by or about
// them under their pseudonym.
import { asc, eq, or, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { existingPersonRef } from '../audit/subjects.js';
import { auditEntries } from '../audit/table.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { grants } from '../grants/table.js';
import { memberInvitations } from '../memberships/table.js';
import { memberExports } from '../transfers/table.js';
import { mailOutbox } from '../mail/table.js';
import { scopeOf } from '../grants/service.js';
import { isoOrNull } from '../time.js';
import { accessTokens, accounts, memberships } from './table.js';
import { accountCredentials, accountIdentities } from './sso-table.js';

export const ACCOUNT_EXPORT_FORMAT = 'meetplane.account-export/1';

export async function accountExport(db: Executor, accountId: string, now = new Date()) {
  const [account] = await db.select().from(accounts).where(eq(accounts.id, accountId));
  if (!account) return undefined;
  const [home] = account.coopId ? await db.select({ id: coops.id, slug: coops.slug, name: coops.name }).from(coops).where(eq(coops.id, account.coopId)) : [];
  const [credentials] = await db.select().from(accountCredentials).where(eq(accountCredentials.accountId, accountId));
  const identities = await db.select().from(accountIdentities).where(eq(accountIdentities.accountId, accountId)).orderBy(asc(accountIdentities.createdAt));
  const member = await db
    .select({ id: tenancies.id, slug: tenancies.slug, name: tenancies.name, role: memberships.role, since: memberships.createdAt })
    .from(memberships)
    .innerJoin(tenancies, eq(tenancies.id, memberships.tenancyId))
    .where(eq(memberships.accountId, accountId))
    .orderBy(asc(tenancies.slug));
  const grantRows = await db.select().from(grants).where(eq(grants.accountId, accountId)).orderBy(asc(grants.id));
  const tokens = await db.select().from(accessTokens).where(eq(accessTokens.accountId, accountId)).orderBy(asc(accessTokens.id));
  const invitations = await db
    .select()
    .from(memberInvitations)
    .where(or(eq(memberInvitations.accountId, accountId), eq(memberInvitations.email, account.email)))
    .orderBy(asc(memberInvitations.id));
  const q = async (query: ReturnType<typeof sql>) => rowsOf<Record<string, unknown>>(await db.execute(query));
  const objections = await q(sql`select transfer_id as "transfer", kind, created_at as "at" from transfer_objections where account_id = ${accountId} order by created_at`);
  const approvals = await q(sql`select transfer_id as "transfer", role, created_at as "at" from transfer_approvals where account_id = ${accountId} order by created_at`);
  const notices = await q(
    sql`select transfer_id as "transfer", shown_at as "shownAt", told_at as "toldAt", told_how as "toldHow", told_note as "toldNote", created_at as "at"
        from transfer_notices where account_id = ${accountId} order by created_at`,
  );
  const exportsMade = await db.select({ id: memberExports.id, transfer: memberExports.transferId, sha256: memberExports.sha256, at: memberExports.createdAt }).from(memberExports).where(eq(memberExports.accountId, accountId));
  const mails = await db.select().from(mailOutbox).where(eq(mailOutbox.toAddress, account.email)).orderBy(asc(mailOutbox.id));
  const ref = await existingPersonRef(db, accountId);
  const entries = ref
    ? await db
        .select({ index: auditEntries.idx, at: auditEntries.createdAt, action: auditEntries.action, subjectType: auditEntries.subjectType })
        .from(auditEntries)
        .where(or(eq(auditEntries.actorRef, ref), eq(auditEntries.subjectId, ref)))
        .orderBy(asc(auditEntries.idx))
    : [];
  const time = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));
  return {
    format: ACCOUNT_EXPORT_FORMAT,
    generatedAt: now.toISOString(),
    account: {
      id: account.id,
      email: account.email,
      name: account.name,
      homeCoop: home ?? null,
      platformAdmin: account.platformAdmin,
      createdAt: account.createdAt.toISOString(),
      suspendedAt: isoOrNull(account.suspendedAt),
    },
    login: {
      passwordSet: !!credentials?.passwordHash,
      passwordUpdatedAt: credentials?.passwordHash ? isoOrNull(credentials.updatedAt) : null,
      emailVerifiedAt: isoOrNull(credentials?.emailVerifiedAt),
      upstreamIdentities: identities.map((i) => ({ issuer: i.issuer, subject: i.subject, linkedAt: i.createdAt.toISOString() })),
    },
    memberships: member.map((m) => ({ tenancy: { id: m.id, slug: m.slug, name: m.name }, role: m.role, since: m.since.toISOString() })),
    grants: grantRows.map((g) => ({
      id: g.id,
      role: g.role,
      scope: scopeOf(g),
      delegable: g.delegable,
      grantedBy: g.grantedBy,
      reason: g.reason,
      createdAt: g.createdAt.toISOString(),
      expiresAt: isoOrNull(g.expiresAt),
      revokedAt: isoOrNull(g.revokedAt),
    })),
    accessTokens: tokens.map((t) => ({
      id: t.id,
      name: t.name,
      prefix: t.prefix,
      createdAt: t.createdAt.toISOString(),
      expiresAt: isoOrNull(t.expiresAt),
      lastUsedAt: isoOrNull(t.lastUsedAt),
      revokedAt: isoOrNull(t.revokedAt),
    })),
    memberInvitations: invitations.map((i) => ({
      id: i.id,
      tenancy: i.tenancyId,
      email: i.email,
      role: i.role,
      createdAt: i.createdAt.toISOString(),
      expiresAt: i.expiresAt.toISOString(),
      acceptedAt: isoOrNull(i.acceptedAt),
      declinedAt: isoOrNull(i.declinedAt),
      revokedAt: isoOrNull(i.revokedAt),
    })),
    transfers: {
      objections: objections.map((o) => ({ ...o, at: time(o.at) })),
      approvals: approvals.map((a) => ({ ...a, at: time(a.at) })),
      notices: notices.map((n) => ({ ...n, shownAt: time(n.shownAt), toldAt: time(n.toldAt), at: time(n.at) })),
    },
    memberExports: exportsMade.map((e) => ({ ...e, at: e.at.toISOString() })),
    mails: mails.map((m) => ({ topic: m.topic, subject: m.subject, body: m.body, queuedAt: m.createdAt.toISOString(), sentAt: isoOrNull(m.sentAt) })),
    auditLog: {
      pseudonym: ref ?? null,
      entries: entries.map((e) => ({ index: e.index, at: e.at.toISOString(), action: e.action, subject: e.subjectType })),
    },
  };
}
