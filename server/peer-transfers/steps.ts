// The source's execution steps of a transfer to another instance, as the transfers runner calls them
// (server/transfers/execute.ts, through ExecutionDeps.peerSteps): once the tenancy is frozen the
// package is sent; the runner waits until the target confirms it verified every file; the switch
// moves the tenancy out and forwards its gateway calls to the target's gateway for the grace period;
// then the target is told; the transfer completes once the receipt both sign is here. Each is idempotent: a runner killed anywhere does it again, once.
import { eq } from 'drizzle-orm';
import type { Tx } from '../db/index.js';
import type { Transfer } from '../transfers/service.js';
import type { PeerSteps } from '../transfers/step-kit.js';
import { SYSTEM } from '../transfers/step-kit.js';
import { leaveOutObjectors } from '../transfers/switch.js';
import { findTenancy, openTenancySecret } from '../tenancies/service.js';
import { startForwarding } from '../forwarding/service.js';
import type { Manifest } from '../../federation/transfer-messages.js';
import { packageTransfer } from './package.js';
import { announceSwitch } from './switched.js';
import { receiptAtSource } from './receipt.js';
import { peerTransfers } from './table.js';
import { mailMovedTenancy } from './moved-mail.js';
import { describeTarget } from '../transfers/target.js';
import type { PeerTransfer, PeerTransferDeps } from './deps.js';

/** What the target has confirmed: its verification, or (after it) the switch announced. */
const VERIFIED = new Set<PeerTransfer['state']>(['verified', 'switched']);

async function peerRow(d: PeerTransferDeps, id: string): Promise<PeerTransfer | undefined> {
  const [row] = await d.db.select().from(peerTransfers).where(eq(peerTransfers.id, id));
  return row;
}

/** `graceMs`: how long the source's gateway forwards the tenancy's calls (the source grace period). */
export function peerSteps(d: PeerTransferDeps, graceMs: number): PeerSteps {
  return {
    async package(t: Transfer) {
      let row = await peerRow(d, t.id);
      if (!row) return { state: 'ended', reason: 'the protocol has no record of this transfer' };
      if (row.state === 'accepted') row = await packageTransfer(d, SYSTEM, row, t.retentionExpired ?? []);
      if (row.state === 'packaged') return { state: 'waiting' };
      if (VERIFIED.has(row.state)) {
        const files = (JSON.parse(row.manifest!) as Manifest).files;
        return { state: 'verified', files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
      }
      return { state: 'ended', reason: `the transfer is ${row.state} between the instances${row.lastError ? `: ${row.lastError}` : ''}` };
    },

    async switchOut(tx: Tx, t: Transfer, now: Date) {
      const [row] = await tx.select().from(peerTransfers).where(eq(peerTransfers.id, t.id)).for('update');
      // The runner reached the switch only after the verification; a row that says otherwise is a bug, not a wait.
      if (!row || !VERIFIED.has(row.state) || !row.targetGatewayUrl) throw new Error(`transfer ${t.id}: the target has not confirmed its package (${row?.state ?? 'no record'})`);
      const leftOut = await leaveOutObjectors(tx, { box: d.box, actor: SYSTEM, publicUrl: d.publicUrl, now }, t);
      const until = new Date(now.getTime() + graceMs);
      await startForwarding(
        tx,
        { box: d.box, outbound: d.outbound, actor: SYSTEM },
        // The target's tenancy keeps the source's secret: the same secret signs the forwarded calls.
        { tenancyId: t.tenancyId, transferId: t.id, peer: t.peer!, gatewayUrl: row.targetGatewayUrl, secret: await openTenancySecret(tx, d.box, t.tenancyId), until },
      );
      // Whoever runs the tenancy's front end learns the new gateway URL now, with the switch.
      const [tenancy, target] = [await findTenancy(tx, t.tenancyId), await describeTarget(tx, t)];
      const mailed = await mailMovedTenancy(tx, t.id, t.tenancyId, { tenancy: tenancy!.name, coop: target?.name ?? row.targetCoop, gatewayUrl: row.targetGatewayUrl, forwardUntil: until });
      return { forwardedTo: row.targetGatewayUrl, forwardUntil: until.toISOString(), membershipsLeftOut: leftOut.length, exports: leftOut.length, ownersMailed: mailed };
    },

    async announce(t: Transfer) {
      const row = await peerRow(d, t.id);
      // Switched already: the message is in the outbox, retried by the peer-transfers job.
      if (row?.state === 'verified') await announceSwitch(d, row);
    },

    // After the switch: the receipt both instances sign (receipt.ts); the transfer completes once it is stored.
    receipt: (t: Transfer) => receiptAtSource(d, t.id),
  };
}
