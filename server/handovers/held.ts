// The transfers a hand-over still carries: their wave starts them (`handovers
// run`, within its concurrency limit), not the periodic transfer runner
// (server/transfers/execute.ts, `heldTransfers`).
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { handoverTenancies } from './table.js';

export async function transfersHeldByHandovers(db: Db): Promise<ReadonlySet<string>> {
  const rows = await db
    .select({ id: handoverTenancies.transferId })
    .from(handoverTenancies)
    .where(and(eq(handoverTenancies.state, 'transfer'), isNotNull(handoverTenancies.transferId)));
  return new Set(rows.map((r) => r.id!));
}
