import { pgTable, uuid, text, integer, timestamp, unique, jsonb } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';

export const clusters = pgTable(
  'clusters',
  {
    id: uuid('id').primaryKey(),
    coopId: uuid('coop_id').notNull().references(() => coops.id),
    // URL-safe and unique across the instance, so `--cluster bbb-north` and `cluster:bbb-north` work like ids.
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    apiUrl: text('api_url').notNull(),
    // Host names (host[:port]) the cluster's recordings are played from; empty: the API URL's host.
    playbackHosts: jsonb('playback_hosts').$type<string[]>().notNull().default([]),
    // AES-256-GCM under the master key (server/crypto/secretbox.ts); never returned.
    secretSealed: text('secret_sealed').notNull(),
    checksumAlgorithm: text('checksum_algorithm', { enum: ['sha1', 'sha256', 'sha384', 'sha512'] }).notNull(),
    country: text('country').notNull(),
    capacity: integer('capacity').notNull(),
    state: text('state', { enum: ['enabled', 'draining', 'disabled'] }).notNull().default('enabled'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [unique('clusters_coop_name').on(t.coopId, t.name)],
);
