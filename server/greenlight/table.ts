// The Greenlight front ends a co-op runs: where each is, its version, the
// provider its accounts belong to, and the two secrets a move needs, sealed
// under the master key and never shown again: a read-only connection to its
// database (to read a source Greenlight's rooms and people) and its
// SECRET_KEY_BASE (to send a target Greenlight what arrives). A tenancy names
// the front end its members use (tenancies.greenlight_id).
import { pgTable, uuid, text, integer, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
