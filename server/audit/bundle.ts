// One entry with everything needed to verify it offline: its canonical bytes,
// an inclusion proof against the latest signed checkpoint, and the key.
import type { Db } from '../db/index.js';
import type { CheckpointSigner } from './checkpoints.js';
import { inclusionProof } from './merkle.js';
import { DbNodeReader, findEntry } from './store.js';
import { signerOf } from './log-keys.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export interface AuditBundle {
  format: 'meetplane-audit-bundle/1';
  vkey: string;
  index: number;
  entry: string;
  leafHash: string;
  json: unknown;
  checkpoint: string;
  proof: { index: number; treeSize: number; hashes: string[] };
}

/** Undefined when there is no entry at `index`. */
export async function buildBundle(db: Db, signer: CheckpointSigner, index: number): Promise<AuditBundle | undefined> {
  const row = await findEntry(db, index);
  if (!row) return undefined;
  const { note, size } = await signer.issue(db);
  const hashes = await inclusionProof(new DbNodeReader(db), index, size);
  // After a rotation the latest checkpoint may still be the old key's last one.
  const vkey = (await signerOf(db, note)) ?? (await signer.vkey(db));
  return {
    format: 'meetplane-audit-bundle/1',
    vkey,
    index,
    entry: b64(row.entry),
    leafHash: b64(row.leafHash),
    json: JSON.parse(Buffer.from(row.entry).toString('utf8')),
    checkpoint: note,
    proof: { index, treeSize: size, hashes: hashes.map(b64) },
  };
}
