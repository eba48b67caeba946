// The log's one advisory lock. Held by the sequencer while it gives out indices
// (sequencer.ts), and by checkpoint signing and key changes so the tree cannot
// grow meanwhile; writers of changes never take it.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/index.js';

export const AUDIT_LOCK_KEY = 7243502;

/** Takes the lock for the rest of the caller's transaction. */
export const lockLog = (tx: Executor) => tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
