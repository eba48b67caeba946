// Verifies a platform hand-over's final report: a JWS in General JSON
// Serialization whose payload is the RFC 8785 canonical JSON of the report,
// signed by the source co-op and countersigned by the target co-op with their
// receipt keys (the same keys and checks as transfer receipts). Imports no
// database code: `meetplane handovers verify-report` runs it offline against
// the two co-ops' saved JWKS.
import { base64url, createLocalJWKSet, flattenedVerify, type GeneralJWS } from 'jose';
import { z } from 'zod';
import { canonicalJson } from '../server/audit/canonical.js';
import { parseJwks, PSEUDONYM_RE, RECEIPT_ALG, RECEIPT_ROLES, ReceiptVerificationError, type ReceiptRole } from './receipt-verify.js';

export const HANDOVER_REPORT_TYP = 'meetplane-handover-report+jws';
export const HANDOVER_REPORT_VERSION = 1;

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');
const Time = z.iso.datetime({ offset: false });

export const HandoverReport = z
  .object({
    version: z.literal(HANDOVER_REPORT_VERSION),
    handoverId: Uuid,
    name: z.string().min(1).max(200),
    sourceCoopId: Uuid,
    targetCoopId: Uuid,
    approvals: z.array(z.object({ role: z.enum(['source_admin', 'target_admin']), ref: z.string().regex(PSEUDONYM_RE) }).strict()).length(2),
    /** tenancies whose transfer completed (each has its own receipt) */
    moved: z.array(z.object({ tenancyId: Uuid, transferId: Uuid }).strict()),
    /** tenancies whose owner objected: stay, export, or another host */
    optedOut: z.array(z.object({ tenancyId: Uuid, choice: z.enum(['stay', 'export', 'other-host']).nullable() }).strict()),
    failed: z.array(z.object({ tenancyId: Uuid, reason: z.string().max(2000) }).strict()),
    /** clusters that changed hands with their tenancies (no data copied) */
    custody: z.array(z.object({ clusterId: Uuid, tenancies: z.array(Uuid) }).strict()),
    /** what the source co-op still holds, and until when */
    sourceHolds: z.object({ what: z.string().max(2000), deletedBy: Time }).strict(),
    cutOverAt: Time,
    completedAt: Time,
    auditCheckpoint: z.string().min(1).max(10_000),
  })
  .strict();
export type HandoverReport = z.infer<typeof HandoverReport>;

const fail = (m: string): never => {
  throw new ReceiptVerificationError(m);
};

/** Checks both signatures, each against its own co-op's key set, and answers the report. */
export async function verifyHandoverReport(jws: unknown, keys: { sourceJwks: unknown; targetJwks: unknown }): Promise<HandoverReport> {
  const j = (typeof jws === 'string' ? JSON.parse(jws) : jws) as Partial<GeneralJWS> | null;
  if (!j || typeof j.payload !== 'string' || !Array.isArray(j.signatures)) return fail('not a JWS in General JSON Serialization (needs "payload" and "signatures")');
  if (j.signatures.length !== 2) fail(`expected 2 signatures (source, then target countersignature), found ${j.signatures.length}`);
  const sets = { source: parseJwks(keys.sourceJwks, 'source JWKS'), target: parseJwks(keys.targetJwks, 'target JWKS') };
  for (const [i, role] of RECEIPT_ROLES.entries()) {
    const sig = j.signatures[i]!;
    if (sig.header !== undefined || typeof sig.protected !== 'string') fail(`${role} signature must carry a protected header and nothing unprotected`);
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(sig.protected!))) as Record<string, unknown>;
    if (header.alg !== RECEIPT_ALG) fail(`${role} signature: alg must be ${RECEIPT_ALG}`);
    if (header.typ !== HANDOVER_REPORT_TYP) fail(`${role} signature: typ must be ${HANDOVER_REPORT_TYP}`);
    if (header['meetplane-role'] !== role) fail(`signature ${i + 1} must be the ${role} co-op's`);
    try {
      await flattenedVerify({ payload: j.payload, protected: sig.protected!, signature: sig.signature! }, createLocalJWKSet(sets[role as ReceiptRole]), { algorithms: [RECEIPT_ALG] });
    } catch {
      fail(`the ${role} co-op's signature does not verify with its JWKS`);
    }
  }
  const bytes = base64url.decode(j.payload);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return fail('the payload is not JSON');
  }
  const report = HandoverReport.safeParse(parsed);
  if (!report.success) return fail(`the payload is not a hand-over report: ${report.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
  if (canonicalJson(report.data) !== new TextDecoder().decode(bytes)) fail('the payload is not in canonical form (RFC 8785)');
  return report.data;
}
