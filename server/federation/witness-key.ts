// The instance's witness key: Ed25519, named after the public URL (host/witness), sealed under the
// master key and created on first use. Its vkey (cosignature/v1, type 0x04) is what auditors put
// in their witness policy (GET /api/v1/federation/witness, `meetplane federation witness`).
import { sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { generateNoteKey, noteKeyFromPrivate } from '../audit/note.js';
import { cosignerVkey } from '../../federation/cosignature.js';
import { witnessKeys } from './table.js';

/** Binds the sealed key to its vkey, so it cannot be moved to another row. */
export const label = (vkey: string) => `witness-key:${vkey}`;
const lock = sql`select pg_advisory_xact_lock(7243512)`;

export function witnessName(publicUrl: string): string {
  const u = new URL(publicUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}/witness`;
}

export interface WitnessKey {
  name: string;
  vkey: string;
  /** base64 PKCS#8 */
  privateKey: string;
}

/** The witness key (created on first call; processes racing create one). */
export async function witnessKey(db: Db, box: SecretBox, publicUrl: string): Promise<WitnessKey> {
  let [row] = await db.select().from(witnessKeys).limit(1);
  if (!row) {
    row = await db.transaction(async (tx) => {
      await tx.execute(lock);
      const [existing] = await tx.select().from(witnessKeys).limit(1);
      if (existing) return existing;
      const key = generateNoteKey(witnessName(publicUrl));
      const vkey = cosignerVkey(key.name, key.publicKey);
      const [created] = await tx.insert(witnessKeys).values({ vkey, name: key.name, privateSealed: box.seal(key.privateKey, label(vkey)) }).returning();
      return created!;
    });
  }
  const key = noteKeyFromPrivate(row.name, box.open(row.privateSealed, label(row.vkey)));
  if (cosignerVkey(key.name, key.publicKey) !== row.vkey) throw new Error(`stored witness key does not match its vkey ${row.vkey}`);
  return { name: row.name, vkey: row.vkey, privateKey: key.privateKey };
}
