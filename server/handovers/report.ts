// The final report of a hand-over, signed like transfer receipts: the source
// co-op's signature, then the target co-op's countersignature, over the
// canonical JSON of which tenancies moved, opted out, failed, which clusters
// changed hands, what the source still holds and until when. People appear
// by the audit log's pseudonymous references only.
import { eq } from 'drizzle-orm';
import { GeneralSign } from 'jose';
import type { Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { CheckpointSigner } from '../audit/checkpoints.js';
import { canonicalBytes } from '../audit/canonical.js';
import { personRefs } from '../audit/subjects.js';
import { coopSigningKey } from '../receipts/keys.js';
import { RECEIPT_ALG, RECEIPT_ROLES } from '../../federation/receipt-verify.js';
import { HANDOVER_REPORT_TYP, HANDOVER_REPORT_VERSION, HandoverReport } from '../../federation/handover-report-verify.js';
import { handoverApprovals, type StoredReport } from './table.js';
import { planParts, type Handover } from './plan.js';

export async function reportOf(db: Executor, signer: CheckpointSigner, h: Handover, completedAt: Date): Promise<HandoverReport> {
  const { clusters, tenancies } = await planParts(db, h.id);
  const approvals = await db.select().from(handoverApprovals).where(eq(handoverApprovals.handoverId, h.id));
  const refs = await personRefs(db, approvals.map((a) => a.accountId));
  const checkpoint = await signer.issue(db);
  return HandoverReport.parse({
    version: HANDOVER_REPORT_VERSION,
    handoverId: h.id,
    name: h.name,
    sourceCoopId: h.sourceCoopId,
    targetCoopId: h.targetCoopId,
    approvals: approvals.sort((a, b) => a.role.localeCompare(b.role)).map((a) => ({ role: a.role, ref: refs.get(a.accountId)! })),
    moved: tenancies.filter((t) => t.state === 'moved').map((t) => ({ tenancyId: t.tenancyId, transferId: t.transferId! })),
    optedOut: tenancies.filter((t) => t.state === 'stayed').map((t) => ({ tenancyId: t.tenancyId, choice: t.objection ?? null })),
    failed: tenancies.filter((t) => t.state === 'failed' || t.state === 'planned' || t.state === 'transfer').map((t) => ({ tenancyId: t.tenancyId, reason: t.failure ?? `not moved (${t.state})` })),
    custody: clusters
      .filter((c) => c.mode === 'custody')
      .map((c) => ({ clusterId: c.clusterId, tenancies: tenancies.filter((t) => t.clusterId === c.clusterId && t.state === 'custody').map((t) => t.tenancyId) })),
    sourceHolds: {
      what: 'the recordings of the moved tenancies (deleted at the source once each transfer\'s grace period ends), the tenancies that opted out and stay, and the failed ones until they are settled',
      deletedBy: h.decommissionAt.toISOString(),
    },
    cutOverAt: (h.cutOverAt ?? completedAt).toISOString(),
    completedAt: completedAt.toISOString(),
    auditCheckpoint: checkpoint.note,
  });
}

export async function signReport(db: Executor, box: SecretBox, report: HandoverReport): Promise<StoredReport> {
  const signer = new GeneralSign(canonicalBytes(report));
  for (const role of RECEIPT_ROLES) {
    const key = await coopSigningKey(db, box, role === 'source' ? report.sourceCoopId : report.targetCoopId);
    signer.addSignature(key.privateKey).setProtectedHeader({ alg: RECEIPT_ALG, kid: key.kid, typ: HANDOVER_REPORT_TYP, 'meetplane-role': role });
  }
  const jws = await signer.sign();
  return { payload: jws.payload, signatures: jws.signatures.map((s) => ({ protected: s.protected!, signature: s.signature })) };
}
