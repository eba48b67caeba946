// A receipt summary for tests that need a signed receipt but not a real
// transfer: plausible hashes, three approvals, a checkpoint; override any field.
import { uuidv7 } from '../../server/ids.js';
import type { ReceiptSummaryInput } from '../../server/receipts/receipt.js';

export function sampleReceiptSummary(over: Partial<ReceiptSummaryInput> & Pick<ReceiptSummaryInput, 'sourceCoopId' | 'targetCoopId'>): ReceiptSummaryInput {
  return {
    transferId: uuidv7(),
    tenancyId: uuidv7(),
    inventoryManifestSha256: 'ab'.repeat(32),
    policySetHash: 'sha256:' + 'cd'.repeat(32),
    approvals: [
      { role: 'source_admin', ref: 'p:' + '1'.repeat(32) },
      { role: 'target_admin', ref: 'p:' + '2'.repeat(32) },
      { role: 'owner', ref: 'p:' + '3'.repeat(32) },
    ],
    auditCheckpoint: { size: 42, rootHash: Buffer.alloc(32, 7).toString('base64') },
    completedAt: new Date('2025-03-01T12:00:00Z'),
    ...over,
  };
}
