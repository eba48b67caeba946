import { pgTable, uuid, text, integer, timestamp } from 'drizzle-orm/pg-core';
import { clusters } from './table.js';

/** The last poll of each cluster (one row per cluster, rewritten on every poll). */
export const clusterHealth = pgTable('cluster_health', {
  clusterId: uuid('cluster_id')
    .primaryKey()
    .references(() => clusters.id, { onDelete: 'cascade' }),
  state: text('state', { enum: ['unknown', 'online', 'offline'] }).notNull().default('unknown'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** Participants as Scalelite counts them (see health.ts). */
  load: integer('load').notNull().default(0),
  meetings: integer('meetings').notNull().default(0),
  participants: integer('participants').notNull().default(0),
  bbbVersion: text('bbb_version'),
  apiVersion: text('api_version'),
  latencyMs: integer('latency_ms'),
  lastError: text('last_error'),
  checkedAt: timestamp('checked_at', { withTimezone: true, mode: 'date' }),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true, mode: 'date' }),
  stateChangedAt: timestamp('state_changed_at', { withTimezone: true, mode: 'date' }),
});
