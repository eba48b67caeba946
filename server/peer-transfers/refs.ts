// How the policies see a transfer between instances: as a Transfer whose other side is a co-op on
// another instance. ELSEWHERE is that co-op (and, at the target, the tenancy): an id no grant or
// membership can name, so the source's rules apply at the source exactly as to a local transfer out
// of the co-op, and the target's rules as to a local transfer into it (policies/transfer-approval.cedar).
import type { ResourceRef } from '../../policies/entities.js';
import { ELSEWHERE } from '../authz/guard.js';
import type { peerTransfers } from './table.js';

export { ELSEWHERE };

type Row = Pick<typeof peerTransfers.$inferSelect, 'id' | 'side' | 'tenancyId' | 'sourceCoopId' | 'sourceClusterId' | 'targetCoopId'>;

export function peerTransferRef(t: Row): ResourceRef {
  if (t.side === 'source')
    return { type: 'Transfer', id: t.id, tenancy: { id: t.tenancyId!, coopId: t.sourceCoopId!, clusterId: t.sourceClusterId! }, targetCoopId: ELSEWHERE };
  return { type: 'Transfer', id: t.id, tenancy: { id: ELSEWHERE, coopId: ELSEWHERE, clusterId: ELSEWHERE }, targetCoopId: t.targetCoopId! };
}
