import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, integer, bigint, boolean, timestamp, jsonb, unique, index } from 'drizzle-orm/pg-core';
import { tenancies } from '../tenancies/table.js';
import { clusters } from '../clusters/table.js';

/**
 * A tenancy's rooms: the BBB meeting ids it has used. A meeting id belongs to the
 * first tenancy that created it through the gateway (unique across tenancies), so
 * one tenancy can never join, end or read another's meeting on a shared cluster.
 */
export const rooms = pgTable(
  'rooms',
  {
    id: uuid('id').primaryKey(),
    tenancyId: uuid('tenancy_id')
      .notNull()
      .references(() => tenancies.id, { onDelete: 'cascade' }),
    meetingId: text('meeting_id').notNull().unique(),
    name: text('name').notNull().default(''),
    /** The cluster the meeting was last created on. */
    clusterId: uuid('cluster_id').references(() => clusters.id, { onDelete: 'set null' }),
    /** The front end's meta_bbb-recording-ready-url, called back re-signed. */
    recordingReadyUrl: text('recording_ready_url'),
    /**
     * When meetplane learned that the meeting ended on `clusterId` (its own `end`, the
     * cluster no longer knowing it, or a health poll not listing it); null while it may
     * still run there. The gateway keeps routing the meeting to `clusterId` until then.
     */
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    running: boolean('running').notNull().default(false),
    participants: integer('participants').notNull().default(0),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastCreatedAt: timestamp('last_created_at', { withTimezone: true, mode: 'date' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // Meetings not yet known to have ended, by cluster (each health poll) and by tenancy (the gateway's getMeetings).
  (t) => [
    index('rooms_tenancy').on(t.tenancyId),
    index('rooms_cluster_open').on(t.clusterId).where(sql`${t.endedAt} is null`),
    index('rooms_tenancy_open').on(t.tenancyId).where(sql`${t.endedAt} is null`),
  ],
);

export interface RecordingFormat {
  type: string;
  url: string;
  /** minutes */
  length: number;
  processingTime: number;
}

/** A tenancy's recordings as its cluster listed them at the last inventory refresh. */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey(),
    tenancyId: uuid('tenancy_id')
      .notNull()
      .references(() => tenancies.id, { onDelete: 'cascade' }),
    /**
     * Null: at the tenancy's current cluster, wherever that is now (a switch moves
     * them all by changing the tenancy). Set: left on that other cluster of the co-op.
     */
    clusterId: uuid('cluster_id').references(() => clusters.id, { onDelete: 'set null' }),
    recordId: text('record_id').notNull(),
    meetingId: text('meeting_id').notNull(),
    name: text('name').notNull(),
    state: text('state').notNull(),
    published: boolean('published').notNull(),
    startTime: timestamp('start_time', { withTimezone: true, mode: 'date' }),
    endTime: timestamp('end_time', { withTimezone: true, mode: 'date' }),
    participants: integer('participants').notNull().default(0),
    /** bytes, as the server reports it (0 when it does not) */
    size: bigint('size', { mode: 'number' }).notNull().default(0),
    formats: jsonb('formats').$type<RecordingFormat[]>().notNull(),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('recordings_tenancy_record').on(t.tenancyId, t.recordId),
    index('recordings_meeting').on(t.tenancyId, t.meetingId),
    // Which clusters hold a tenancy's recordings: asked on every getRecordings through the gateway.
    index('recordings_tenancy_cluster').on(t.tenancyId, t.clusterId),
  ],
);
