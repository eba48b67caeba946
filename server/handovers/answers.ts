// A tenancy owner's answer to the hand-over, given on their tenancy's transfer:
// accept (their approval of the transfer, the transfer rules' third approval),
// object (the transfer rules' owner objection: the transfer stops; they say
// whether the tenancy stays, or they take an export, or go to another host), or
// ask for a later wave (the transfer made for this wave is cancelled and one is
// made for the next, carrying the plan's approvals again; they accept that one).
import { and, eq } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { cancelTransfer, findTransfer, objectToTransfer } from '../transfers/service.js';
import { startNotice } from '../transfers/notice.js';
import type { HandoverDeps } from './deps.js';
import { handoverWaves, type Objection } from './table.js';
import type { Handover, HandoverTenancy } from './plan.js';
import { approveAs, openTransfer, settle } from './transfers-from-plan.js';

export type Answer = { answer: 'accept' } | { answer: 'object'; choice: Objection } | { answer: 'later' };

async function currentTransfer(deps: HandoverDeps, ht: HandoverTenancy) {
  const t = ht.transferId ? await findTransfer(deps.exec.db, ht.transferId) : undefined;
  if (!t || ht.state !== 'transfer') throw problems.conflict('handover-tenancy-state', `this tenancy is ${ht.state} in the hand-over: there is no transfer to answer`);
  return t;
}

/** `actor` acts under the decision the route took for the answer's action. */
export async function answerHandover(deps: HandoverDeps, actor: Principal, h: Handover, ht: HandoverTenancy, a: Answer): Promise<HandoverTenancy['state']> {
  if (h.state !== 'approved' && h.state !== 'running') throw problems.conflict('handover-state', `the hand-over is ${h.state}: answers are taken while it runs`);
  const t = await currentTransfer(deps, ht);
  if (a.answer === 'accept') {
    let after = await approveAs(deps, actor, t, 'owner');
    if (after.state === 'approved') after = await startNotice(deps.exec.db, actor, after, deps.publicUrl, new Date(), deps.exec.box);
    await settle(deps, actor, h, ht, { state: 'transfer', failure: null, set: { answer: 'accepted', objection: null } });
    return 'transfer';
  }
  if (a.answer === 'object') {
    const { kind } = await objectToTransfer(deps.exec.db, actor, t);
    if (kind !== 'owner') throw problems.forbidden('only the tenancy owner answers for the tenancy; your objection keeps your own data out of the move');
    await settle(deps, actor, h, ht, { state: 'stayed', failure: null, set: { answer: 'objected', objection: a.choice } });
    return 'stayed';
  }
  const [next] = await deps.exec.db.select().from(handoverWaves).where(and(eq(handoverWaves.handoverId, h.id), eq(handoverWaves.n, ht.wave + 1)));
  if (!next) throw problems.conflict('no-later-wave', `wave ${ht.wave} is the plan's last wave; ask the co-ops for another date`);
  await cancelTransfer(deps.exec.db, actor, t);
  await settle(deps, actor, h, ht, { transferId: null, state: 'planned', failure: null, set: { wave: next.n, answer: 'later' } });
  const moved = { ...ht, wave: next.n, answer: 'later' as const, state: 'planned' as const, transferId: null };
  const r = await openTransfer(deps, actor, h, moved);
  return r.failure ? 'failed' : 'transfer';
}
