import { pgTable, uuid, text, timestamp, integer, primaryKey, index } from 'drizzle-orm/pg-core';
import { accounts } from './table.js';

/** How an account logs in locally: its password hash (scrypt, parameters inside). */
export const accountCredentials = pgTable('account_credentials', {
  accountId: uuid('account_id').primaryKey().references(() => accounts.id),
  passwordHash: text('password_hash'),
  // Set when the person proved the address (invitation link, verified upstream).
  emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, mode: 'date' }),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Invitation links: only the SHA-256 of the token is stored; single use. */
export const accountInvitations = pgTable(
  'account_invitations',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('account_invitations_account').on(t.accountId)],
);

/** Upstream identities linked to an account: (issuer, subject) is the key. */
export const accountIdentities = pgTable(
  'account_identities',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.subject] }), index('account_identities_account').on(t.accountId)],
);

/**
 * Failed login counters per key ("email:<sha256>" or "ip:<address>"), in the
 * database so every meetplane process sees the same counts.
 */
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
});
