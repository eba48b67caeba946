// The Greenlight front ends a co-op runs: where each is, its version, the
// provider its accounts belong to, and the two secrets a move needs, sealed
// under the master key and never shown again: a read-only connection to its
// database (to read a source Greenlight's rooms and people) and its
// SECRET_KEY_BASE (to send a target Greenlight what arrives). A tenancy names
// the front end its members use (tenancies.greenlight_id).
import { pgTable, uuid, text, integer, timestamp, uniqueIndex, primaryKey } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';

export const greenlightFrontends = pgTable(
  'greenlight_frontends',
  {
    id: uuid('id').primaryKey(),
    coopId: uuid('coop_id').notNull().references(() => coops.id),
    slug: text('slug').notNull(),
    baseUrl: text('base_url').notNull(),
    greenlightVersion: text('greenlight_version', { enum: ['v3', 'v2'] }).notNull(),
    /** "greenlight" for a single-tenant Greenlight, else the tenant's name. */
    provider: text('provider').notNull().default('greenlight'),
    databaseUrlSealed: text('database_url_sealed'),
    secretKeyBaseSealed: text('secret_key_base_sealed'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('greenlight_frontends_coop_slug').on(t.coopId, t.slug)],
);

/**
 * What a transfer moves at Greenlight, read from the source Greenlight's
 * database when the notice starts (so each member's notice and page list their
 * own rooms) and again at the import; the import's outcome joins it.
 */
export interface GreenlightMove {
  readAt: string;
  /** the target Greenlight's address: the rooms' new links are <targetBaseUrl>/rooms/<friendlyId>/join */
  targetBaseUrl: string;
  /** the rooms that move; owner = the meetplane account owning it, so a member sees their own */
  rooms: Array<{ friendlyId: string; name: string; owner: string | null; recordings: number }>;
  counts: { roles: number; users: number; rooms: number; shares: number; recordings: number };
  roomsLeftOut: number;
  sharesDropped: number;
  usersLeftOut: number;
  /** set once the import and its verification passed */
  imported?: { at: string; created: number; arrived: number; alreadyThere: number; roomsResolving: number; resyncCommand: string | null };
}

/**
 * What already arrived at a target Greenlight for a transfer, so a resumed or
 * retried import sends nothing twice (Greenlight's answers to a re-send are no
 * guide). key: a role name, a source user's opaque ref, a friendly_id, or "settings".
 */
export const greenlightImportLedger = pgTable(
  'greenlight_import_ledger',
  {
    transferId: uuid('transfer_id').notNull(),
    kind: text('kind', { enum: ['role', 'user', 'room', 'settings'] }).notNull(),
    key: text('key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.kind, t.key] })],
);
