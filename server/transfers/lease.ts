// Which runner advances a transfer now. A runner (the background job of any
// meetplane process, or `meetplane transfers run`) claims the transfer for a
// lease before running a step and renews it while copying; a runner that was
// killed stops renewing and another takes over once its lease ran out. With the
// version check of every transition this keeps two processes from running one
// step at the same time.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import { transfers } from './table.js';

/** A name for this runner in lease_owner: host, process and a random part. */
export function runnerName(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Takes (or extends) the lease; false when another live runner holds it. */
export async function claimTransfer(db: Executor, id: string, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await db
    .update(transfers)
    .set({ leaseOwner: owner, leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(and(eq(transfers.id, id), sql`(${transfers.leaseOwner} is null or ${transfers.leaseOwner} = ${owner} or ${transfers.leaseExpiresAt} < now())`))
    .returning({ id: transfers.id });
  return rows.length === 1;
}

/** Extends a held lease (and stores progress with it); false when it was lost. */
export async function renewTransfer(db: Executor, id: string, owner: string, leaseMs: number, set: Partial<typeof transfers.$inferInsert> = {}): Promise<boolean> {
  const rows = await db
    .update(transfers)
    .set({ ...set, leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(and(eq(transfers.id, id), eq(transfers.leaseOwner, owner)))
    .returning({ id: transfers.id });
  return rows.length === 1;
}

export async function releaseTransfer(db: Executor, id: string, owner: string): Promise<void> {
  await db.update(transfers).set({ leaseOwner: null, leaseExpiresAt: null }).where(and(eq(transfers.id, id), eq(transfers.leaseOwner, owner)));
}
