import { pgTable, uuid, text, integer, timestamp, boolean } from 'drizzle-orm/pg-core';

export const coops = pgTable('coops', {
  id: uuid('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  jurisdiction: text('jurisdiction').notNull(),
  contactEmail: text('contact_email').notNull(),
  legalRegime: text('legal_regime', { enum: ['eu_gdpr', 'uk_gdpr', 'ch_fadp', 'other'] }).notNull(),
  // What the co-op states about itself to peers that would transfer data to it (in the federation
  // metadata): listed under the EU-US Data Privacy Framework; subject to Canada's PIPEDA.
  dpfListed: boolean('dpf_listed').notNull().default(false),
  pipedaSubject: boolean('pipeda_subject').notNull().default(false),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
