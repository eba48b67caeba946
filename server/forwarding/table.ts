import { pgTable, uuid, text, timestamp } from 'drizzle-orm/pg-core';
import { tenancies } from '../tenancies/table.js';

// A tenancy moved to another meetplane instance: until `until`, its gateway here passes
// the front end's BBB calls on to the target's gateway, re-signed with the secret the
// target gave it (sealed). One per tenancy; it stays after `until` so the gateway can
// still name the new URL. The transfer it came from is history: no foreign key.
export const tenancyForwards = pgTable('tenancy_forwards', {
  tenancyId: uuid('tenancy_id')
    .primaryKey()
    .references(() => tenancies.id, { onDelete: 'cascade' }),
  transferId: uuid('transfer_id').notNull(),
  // The target instance's entity id.
  peer: text('peer').notNull(),
  // The target's BBB API base for this tenancy, e.g. https://target.example/t/<slug>/bigbluebutton/api.
  gatewayUrl: text('gateway_url').notNull(),
  secretSealed: text('secret_sealed').notNull(),
  until: timestamp('until', { withTimezone: true, mode: 'date' }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
