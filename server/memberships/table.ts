import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts, memberships } from '../accounts/table.js';
import { tenancies } from '../tenancies/table.js';

/**
 * Invitations to join a tenancy, for people the inviter may not add directly
 * (another co-op's, or holding more than the inviter). The person becomes a
 * member only by accepting on their own page. A row is kept whether or not an
 * account had the e-mail address (account_id null then), so what the inviter
 * sees never tells them whether the address belongs to someone here.
 */
export const memberInvitations = pgTable(
  'member_invitations',
  {
    id: uuid('id').primaryKey(),
    tenancyId: uuid('tenancy_id')
      .notNull()
      .references(() => tenancies.id, { onDelete: 'cascade' }),
    /** The account the address belonged to when invited; null when none did (the invitation can never be accepted). */
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    /** The address as the inviter typed it (lower-cased): nothing they did not know already. */
    email: text('email').notNull(),
    role: text('role', { enum: memberships.role.enumValues }).notNull(),
    /** Null when invited from the console. */
    invitedBy: uuid('invited_by').references(() => accounts.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true, mode: 'date' }),
    declinedAt: timestamp('declined_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('member_invitations_tenancy').on(t.tenancyId, t.id),
    index('member_invitations_account').on(t.accountId),
    // One open invitation per address and tenancy: inviting again renews it.
    uniqueIndex('member_invitations_open')
      .on(t.tenancyId, t.email)
      .where(sql`accepted_at is null and declined_at is null and revoked_at is null`),
  ],
);
