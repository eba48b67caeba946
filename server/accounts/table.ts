import { pgTable, uuid, text, timestamp, boolean, integer, primaryKey, index } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  // Stored lower-cased so uniqueness is case-insensitive.
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  coopId: uuid('coop_id').references(() => coops.id),
  // Until the roles issue moves this into grants: may do everything.
  platformAdmin: boolean('platform_admin').notNull().default(false),
  // Sessions and sign-on grants begun before this moment are over: set when the
  // password, a grant or the account changes (server/accounts/sessions.ts).
  sessionsValidAfter: timestamp('sessions_valid_after', { withTimezone: true, mode: 'date' }),
  // Suspended: every credential of the account is refused and it cannot sign in;
  // its grants and memberships stay, and count again when it is reinstated
  // (server/accounts/lifecycle.ts).
  suspendedAt: timestamp('suspended_at', { withTimezone: true, mode: 'date' }),
  // Erased (the right to erasure): name and e-mail are tombstones, the personal
  // data is gone; the row stays so what refers to the id keeps its meaning.
  erasedAt: timestamp('erased_at', { withTimezone: true, mode: 'date' }),
  // For If-Match on suspend, reinstate, offboard and erase.
  version: integer('version').notNull().default(1),
  // The language the member chose for their pages and mails (en, fr, de); null: their browser's.
  language: text('language', { enum: ['en', 'fr', 'de'] }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const memberships = pgTable(
  'memberships',
  {
    tenancyId: uuid('tenancy_id').notNull().references(() => tenancies.id),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenancyId, t.accountId] }), index('memberships_account').on(t.accountId)],
);

/** Personal access tokens: only the SHA-256 of the token is stored. */
export const accessTokens = pgTable(
  'access_tokens',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    name: text('name').notNull(),
    // The first characters of the token, so a user can tell tokens apart.
    prefix: text('prefix').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('access_tokens_account').on(t.accountId)],
);
