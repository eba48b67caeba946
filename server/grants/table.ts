import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, integer, timestamp, boolean, index, check, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/table.js';
import { ROLES, SCOPE_TYPES } from '../../policies/roles.js';

/**
 * A role held on a scope by an account or a machine client. Delegated grants point at the grant they came from
 * (granted_by); bootstrap grants have none. Grants are never deleted: revoking
 * sets revoked_at on the grant and everything delegated from it.
 */
export const grants = pgTable(
  'grants',
  {
    id: uuid('id').primaryKey(),
    // The holder: an account, or a machine client (an OIDC client of kind machine).
    // Exactly one is set. client_id has no foreign key: a deleted client's grants
    // stay, revoked, as the record of what it was allowed.
    accountId: uuid('account_id').references(() => accounts.id),
    clientId: uuid('client_id'),
    role: text('role', { enum: ROLES }).notNull(),
    scopeType: text('scope_type', { enum: SCOPE_TYPES }).notNull(),
    // The co-op, cluster or tenancy; null for the global scope.
    scopeId: uuid('scope_id'),
    grantedBy: uuid('granted_by').references((): AnyPgColumn => grants.id),
    delegable: boolean('delegable').notNull().default(false),
    // A delegated coop_admin grant approves transfers only when it says so;
    // a bootstrap (first-hand) grant always may.
    transferApproval: boolean('transfer_approval').notNull().default(false),
    // How many delegations from a bootstrap grant (0).
    depth: integer('depth').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    // The account that revoked it (or the console operator's nil id): no foreign key.
    revokedBy: uuid('revoked_by'),
    reason: text('reason').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('grants_account').on(t.accountId),
    index('grants_client').on(t.clientId),
    index('grants_granted_by').on(t.grantedBy),
    index('grants_scope').on(t.scopeType, t.scopeId),
    check('grants_one_holder', sql`(${t.accountId} is null) <> (${t.clientId} is null)`),
    check('grants_scope_id', sql`(${t.scopeType} = 'global') = (${t.scopeId} is null)`),
  ],
);
