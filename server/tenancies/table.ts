import { pgTable, uuid, text, integer, timestamp, jsonb, index } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { clusters } from '../clusters/table.js';
import { greenlightFrontends } from '../greenlight/table.js';

/** none: anywhere; eea: EEA member states only; countries: an explicit ISO 3166-1 list. */
export type Residency = { kind: 'none' } | { kind: 'eea' } | { kind: 'countries'; countries: string[] };

export const tenancies = pgTable(
  'tenancies',
  {
    id: uuid('id').primaryKey(),
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    coopId: uuid('coop_id').notNull().references(() => coops.id),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id),
    residency: jsonb('residency').$type<Residency>().notNull(),
    retentionDays: integer('retention_days').notNull(),
    // The language meetplane writes to the tenancy's people in when they chose none themselves
    // (hand-over mails and pages); null: English.
    language: text('language', { enum: ['en', 'fr', 'de'] }),
    // The Greenlight front end its members use (one of its co-op's); null: none known to meetplane.
    greenlightId: uuid('greenlight_id').references(() => greenlightFrontends.id),
    // moved: switched out to another meetplane instance (server/forwarding: its gateway forwards for a while).
    state: text('state', { enum: ['active', 'frozen', 'transferring', 'archived', 'moved'] }).notNull().default('active'),
    // The per-tenancy BBB secret front ends sign gateway calls with; sealed.
    bbbSecretSealed: text('bbb_secret_sealed').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('tenancies_coop').on(t.coopId), index('tenancies_cluster').on(t.clusterId)],
);
