import { pgTable, uuid, text, integer, timestamp } from 'drizzle-orm/pg-core';

export const coops = pgTable('coops', {
  id: uuid('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  jurisdiction: text('jurisdiction').notNull(),
  contactEmail: text('contact_email').notNull(),
  legalRegime: text('legal_regime', { enum: ['eu_gdpr', 'uk_gdpr', 'ch_fadp', 'other'] }).notNull(),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
