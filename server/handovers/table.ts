// The tables of platform hand-overs: the plan (its co-ops, timeline, state),
// the clusters it covers with their mode, its waves, each tenancy's place in it
// (wave, the owner's answer, its transfer), the two co-ops' approvals, the
// shared operations checklist with its comment trail, and the delegated
// operator grants that end with it.
import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, integer, timestamp, jsonb, primaryKey, uniqueIndex, index, boolean } from 'drizzle-orm/pg-core';
import { coops } from '../coops/table.js';
import { clusters } from '../clusters/table.js';
import { tenancies } from '../tenancies/table.js';
import { accounts } from '../accounts/table.js';
import type { HandoverState } from './lifecycle.js';

/** How the plan placed a data-move cluster's tenancies, and on what figures (shown with the plan). */
export interface Placement {
  basis: 'measured' | 'none';
  /** in words: what the choice rested on, or why it could not rest on measurements */
  note: string;
  demand: number;
  targetCapacity: number | null;
  targetLoad: number | null;
}

/** A signed final report (JWS, General JSON Serialization), stored once. */
export interface StoredReport {
  payload: string;
  signatures: Array<{ protected: string; signature: string }>;
}

export const handovers = pgTable(
  'handovers',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    sourceCoopId: uuid('source_coop_id').notNull().references(() => coops.id),
    targetCoopId: uuid('target_coop_id').notNull().references(() => coops.id),
    state: text('state').$type<HandoverState>().notNull().default('draft'),
    noticeDays: integer('notice_days').notNull(),
    announceAt: timestamp('announce_at', { withTimezone: true, mode: 'date' }).notNull(),
    cutoverAt: timestamp('cutover_at', { withTimezone: true, mode: 'date' }).notNull(),
    decommissionAt: timestamp('decommission_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The Art. 28 agreement the plan rests on (its SHA-256 and date), recorded for every tenancy that moves. */
    agreementSha256: text('agreement_sha256'),
    agreementSignedOn: text('agreement_signed_on'),
    /** automatic: each wave runs on its own while its window is open; by-hand: only `handovers run` runs one. */
    runWaves: text('run_waves', { enum: ['automatic', 'by-hand'] }).notNull().default('automatic'),
    /** Where members' Greenlight rooms go: each source Greenlight front end to a target one (null: its rooms stay). */
    greenlights: jsonb('greenlights').$type<Array<{ sourceId: string; targetId: string | null }>>().notNull().default([]),
    createdBy: uuid('created_by').notNull().references(() => accounts.id),
    cutOverAt: timestamp('cut_over_at', { withTimezone: true, mode: 'date' }),
    report: jsonb('report').$type<StoredReport>(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('handovers_source').on(t.sourceCoopId), index('handovers_target').on(t.targetCoopId)],
);

/** Each source cluster the plan covers: its tenancies move (data-move) or the cluster changes hands (custody). */
export const handoverClusters = pgTable(
  'handover_clusters',
  {
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id),
    mode: text('mode', { enum: ['data-move', 'custody'] }).notNull(),
    targetClusterId: uuid('target_cluster_id').references(() => clusters.id),
    placement: jsonb('placement').$type<Placement>(),
    custodyDoneAt: timestamp('custody_done_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.handoverId, t.clusterId] })],
);

export const handoverWaves = pgTable(
  'handover_waves',
  {
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    n: integer('n').notNull(),
    freezeFrom: timestamp('freeze_from', { withTimezone: true, mode: 'date' }).notNull(),
    freezeUntil: timestamp('freeze_until', { withTimezone: true, mode: 'date' }).notNull(),
    concurrency: integer('concurrency').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    // Who runs the wave now (the background job or an admin's request, in any process): one run at a time keeps its concurrency limit.
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.handoverId, t.n] })],
);

export type TenancyAnswer = 'pending' | 'accepted' | 'objected' | 'later';
export type Objection = 'stay' | 'export' | 'other-host';
/** planned: no transfer yet; transfer: its transfer carries it; moved/stayed/failed: settled; custody: keeps its cluster. */
export type HandoverTenancyState = 'planned' | 'transfer' | 'moved' | 'stayed' | 'failed' | 'custody';

export const handoverTenancies = pgTable(
  'handover_tenancies',
  {
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    tenancyId: uuid('tenancy_id').notNull().references(() => tenancies.id),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id),
    wave: integer('wave').notNull(),
    answer: text('answer').$type<TenancyAnswer>().notNull().default('pending'),
    objection: text('objection').$type<Objection>(),
    transferId: uuid('transfer_id'),
    state: text('state').$type<HandoverTenancyState>().notNull().default('planned'),
    failure: text('failure'),
    attempts: integer('attempts').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.handoverId, t.tenancyId] }), index('handover_tenancies_transfer').on(t.transferId)],
);

/** Once by an admin of each co-op, two different people (the database holds to it too). */
export const handoverApprovals = pgTable(
  'handover_approvals',
  {
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    role: text('role', { enum: ['source_admin', 'target_admin'] }).notNull(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.handoverId, t.role] }), uniqueIndex('handover_approvals_one_per_person').on(t.handoverId, t.accountId)],
);

export type TaskStatus = 'open' | 'in-progress' | 'done' | 'dropped';

export const handoverTasks = pgTable(
  'handover_tasks',
  {
    id: uuid('id').primaryKey(),
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    title: text('title').notNull(),
    assigneeId: uuid('assignee_id').references(() => accounts.id),
    dueOn: text('due_on'),
    status: text('status').$type<TaskStatus>().notNull().default('open'),
    blocking: boolean('blocking').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('handover_tasks_handover').on(t.handoverId), index('handover_tasks_open_blocking').on(t.handoverId).where(sql`blocking and status in ('open', 'in-progress')`)],
);

/** The comment trail of a task (the text stays here; the audit log holds its SHA-256). */
export const handoverTaskComments = pgTable(
  'handover_task_comments',
  {
    id: uuid('id').primaryKey(),
    taskId: uuid('task_id').notNull().references(() => handoverTasks.id),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('handover_task_comments_task').on(t.taskId)],
);

/** The delegated cluster_operator grants the plan gave the target's team (they expire with it). */
export const handoverGrants = pgTable(
  'handover_grants',
  {
    handoverId: uuid('handover_id').notNull().references(() => handovers.id),
    grantId: uuid('grant_id').notNull(),
    accountId: uuid('account_id').notNull().references(() => accounts.id),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id),
  },
  (t) => [primaryKey({ columns: [t.handoverId, t.grantId] })],
);
