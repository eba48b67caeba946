// The receipt a completed transfer ends with: the canonical summary signed by
// the source co-op and countersigned by the target co-op (federation/receipt-verify.ts
// checks it, with no database). Receipts travel between co-ops and are never
// erased, so people are named in them as in the audit log: by pseudonymous
// references (server/audit/subjects.ts), which forgetting a person unlinks.
import { eq } from 'drizzle-orm';
import { base64url, GeneralSign, type GeneralJWS } from 'jose';
import type { Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { canonicalBytes } from '../audit/canonical.js';
import { problems } from '../http/problem.js';
import { RECEIPT_ALG, RECEIPT_ROLES, RECEIPT_TYP, RECEIPT_VERSION, ReceiptSummary } from '../../federation/receipt-verify.js';
import { PersonRef, personRefs } from '../audit/subjects.js';
import { coopSigningKey } from './keys.js';
import { transferReceipts } from './table.js';

export type ReceiptJws = { payload: string; signatures: Array<{ protected: string; signature: string }> };

/**
 * What the transfer hands over; `completedAt` may be a Date, and a person is
 * given as `person(accountId)` (the receipt carries their pseudonymous reference).
 */
export type ReceiptSummaryInput = Omit<ReceiptSummary, 'completedAt' | 'version' | 'approvals'> & {
  completedAt: string | Date;
  approvals: Array<{ role: string; ref: PersonRef | string }>;
};

/** Validates the summary (400 problem listing every bad field) and normalises the time to UTC ISO. */
export function receiptSummary(input: Omit<ReceiptSummaryInput, 'approvals'> & { approvals: Array<{ role: string; ref: string }> }): ReceiptSummary {
  const completedAt = input.completedAt instanceof Date ? input.completedAt.toISOString() : input.completedAt;
  const parsed = ReceiptSummary.safeParse({ version: RECEIPT_VERSION, ...input, completedAt });
  if (!parsed.success) throw problems.validation(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return parsed.data;
}

/** Signs the summary with the source co-op's key, then the target co-op's (keys created on first use). */
export async function signReceipt(db: Executor, box: SecretBox, input: ReceiptSummaryInput): Promise<ReceiptJws> {
  const people = input.approvals.flatMap((a) => (a.ref instanceof PersonRef ? [a.ref.accountId] : []));
  const refs = await personRefs(db, people);
  const approvals = input.approvals.map((a) => ({ role: a.role, ref: a.ref instanceof PersonRef ? refs.get(a.ref.accountId)! : a.ref }));
  const summary = receiptSummary({ ...input, approvals });
  const signer = new GeneralSign(canonicalBytes(summary));
  for (const role of RECEIPT_ROLES) {
    const key = await coopSigningKey(db, box, role === 'source' ? summary.sourceCoopId : summary.targetCoopId);
    signer.addSignature(key.privateKey).setProtectedHeader({ alg: RECEIPT_ALG, kid: key.kid, typ: RECEIPT_TYP, 'meetplane-role': role });
  }
  return plain(await signer.sign());
}

/** Only the members we sign (jose omits unprotected headers when none are set). */
function plain(jws: GeneralJWS): ReceiptJws {
  return { payload: jws.payload, signatures: jws.signatures.map((s) => ({ protected: s.protected!, signature: s.signature })) };
}

function payloadTransferId(jws: ReceiptJws): string | undefined {
  try {
    return (JSON.parse(new TextDecoder().decode(base64url.decode(jws.payload))) as { transferId?: string }).transferId;
  } catch {
    return undefined;
  }
}

/**
 * Stores the transfer's receipt once; a repeated call (a resumed step) keeps the
 * first and returns it, so a receipt never changes after it was issued.
 */
export async function storeReceipt(tx: Executor, transferId: string, jws: ReceiptJws): Promise<ReceiptJws> {
  if (payloadTransferId(jws) !== transferId) throw problems.badRequest('the receipt is for another transfer');
  await tx.insert(transferReceipts).values({ transferId, jws: plain(jws) }).onConflictDoNothing();
  return (await loadReceipt(tx, transferId))!;
}

export async function loadReceipt(db: Executor, transferId: string): Promise<ReceiptJws | undefined> {
  const [row] = await db.select({ jws: transferReceipts.jws }).from(transferReceipts).where(eq(transferReceipts.transferId, transferId)).limit(1);
  return row?.jws;
}
