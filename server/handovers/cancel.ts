// Cancelling a hand-over before its waves run: the plan ends, every transfer
// it made that has not frozen its tenancy is cancelled through the transfers
// service (audited there), its tenancies stay where they are, and the operator
// roles it delegated to the target's team are revoked with it.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { cancelTransfer, findTransfer } from '../transfers/service.js';
import { findGrant, revokeGrantIn } from '../grants/service.js';
import { grants } from '../grants/table.js';
import type { HandoverDeps } from './deps.js';
import { handoverGrants, handoverTenancies } from './table.js';
import { moveHandover, type Handover } from './plan.js';
import { settle } from './transfers-from-plan.js';

export async function cancelHandover(deps: HandoverDeps, actor: Principal, h: Handover, reason: string): Promise<Handover> {
  const db = deps.exec.db;
  if (h.state !== 'draft' && h.state !== 'approved')
    throw problems.conflict('handover-state', `a ${h.state} hand-over cannot be cancelled${h.state === 'running' ? ': its waves have started; settle its tenancies one by one' : ''}`);
  const open = await db
    .select()
    .from(handoverTenancies)
    .where(and(eq(handoverTenancies.handoverId, h.id), inArray(handoverTenancies.state, ['planned', 'transfer'])));
  for (const ht of open) {
    const t = ht.transferId ? await findTransfer(db, ht.transferId) : undefined;
    if (t && ['draft', 'checked', 'approved', 'notice'].includes(t.state)) await cancelTransfer(db, actor, t);
    await settle(deps, actor, h, ht, { state: 'stayed', failure: null });
  }
  return db.transaction(async (tx) => {
    const given = await tx
      .select({ id: handoverGrants.grantId })
      .from(handoverGrants)
      .innerJoin(grants, eq(grants.id, handoverGrants.grantId))
      .where(and(eq(handoverGrants.handoverId, h.id), isNull(grants.revokedAt)));
    const revoked: string[] = [];
    for (const g of given) {
      const grant = await findGrant(tx, g.id);
      if (grant && grant.status === 'active') revoked.push(...(await revokeGrantIn(tx, actor, grant, `hand-over ${h.name} cancelled`)));
    }
    return moveHandover(tx, actor, h, 'cancelled', 'handover.cancel', { details: { reason, tenanciesKept: open.length, grantsRevoked: revoked } });
  });
}
