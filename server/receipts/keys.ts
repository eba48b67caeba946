// Co-op receipt-signing keys (Ed25519). Generated on first use; the private JWK
// is sealed under the master key and only ever opened into a non-extractable
// CryptoKey. Rotation retires a key for signing, never for verifying.
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { LOCAL_OPERATOR } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { findCoop } from '../coops/service.js';
import { problems } from '../http/problem.js';
import { RECEIPT_ALG } from '../../federation/receipt-verify.js';
import { coopKeys } from './table.js';

export interface CoopSigningKey {
  kid: string;
  coopId: string;
  publicJwk: JWK;
  /** Non-extractable: it signs, it cannot be exported or logged. */
  privateKey: CryptoKey;
}

/** Binds a sealed private key to its co-op and key id, so it cannot be moved to another row. */
export const sealLabel = (coopId: string, kid: string) => `coop-signing-key:${coopId}:${kid}`;

async function newKeyRow(box: SecretBox, coopId: string) {
  const { publicKey, privateKey } = await generateKeyPair(RECEIPT_ALG, { crv: 'Ed25519', extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty: pub.kty!, crv: pub.crv!, x: pub.x! }, 'sha256');
  const publicJwk = { kty: pub.kty!, crv: pub.crv!, x: pub.x!, kid, alg: RECEIPT_ALG, use: 'sig' };
  const privateSealed = box.seal(JSON.stringify({ ...(await exportJWK(privateKey)), kid }), sealLabel(coopId, kid));
  return { kid, coopId, publicJwk, privateSealed };
}

async function open(box: SecretBox, row: typeof coopKeys.$inferSelect): Promise<CoopSigningKey> {
  const jwk = JSON.parse(box.open(row.privateSealed, sealLabel(row.coopId, row.kid))) as JWK;
  const privateKey = (await importJWK(jwk, RECEIPT_ALG, { extractable: false })) as CryptoKey;
  return { kid: row.kid, coopId: row.coopId, publicJwk: row.publicJwk, privateKey };
}

async function activeRow(db: Executor, coopId: string) {
  const [row] = await db
    .select()
    .from(coopKeys)
    .where(and(eq(coopKeys.coopId, coopId), isNull(coopKeys.retiredAt)))
    .limit(1);
  return row;
}

/** Serialises key creation and rotation for one co-op (two rotations at once both succeed, in turn). */
async function lockCoopKeys(tx: Executor, coopId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`coop-key:${coopId}`}, 0))`);
}

async function requireCoop(db: Executor, coopId: string): Promise<string> {
  const coop = await findCoop(db, coopId);
  if (!coop) throw problems.notFound('co-op');
  return coop.id;
}

/** The co-op's current signing key, created (and audited) on first use. Safe under concurrent callers. */
export async function coopSigningKey(db: Executor, box: SecretBox, coopId: string): Promise<CoopSigningKey> {
  const existing = await activeRow(db, coopId);
  if (existing) return open(box, existing);
  const id = await requireCoop(db, coopId);
  const row = await newKeyRow(box, id);
  await db.transaction(async (tx) => {
    await lockCoopKeys(tx, id);
    // The partial unique index allows one active key per co-op: a concurrent creator's insert is a no-op.
    const inserted = await tx.insert(coopKeys).values(row).onConflictDoNothing().returning({ kid: coopKeys.kid });
    if (inserted.length > 0)
      await appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'coop.key.create', subject: { type: 'coop', id }, details: { kid: row.kid } });
  });
  const stored = await activeRow(db, id);
  if (!stored) throw new Error('co-op signing key vanished right after it was stored');
  return open(box, stored);
}

/** Every public key the co-op ever signed with, oldest first (retired ones still verify old receipts). */
export async function coopJwks(db: Executor, coopId: string): Promise<{ keys: JWK[] }> {
  const rows = await db.select({ jwk: coopKeys.publicJwk }).from(coopKeys).where(eq(coopKeys.coopId, coopId)).orderBy(asc(coopKeys.createdAt), asc(coopKeys.kid));
  return { keys: rows.map((r) => r.jwk) };
}

/** Adds a new signing key and retires the current one for signing; audited. */
export async function rotateCoopKey(
  db: Executor,
  box: SecretBox,
  actor: Principal,
  coopId: string,
): Promise<{ kid: string; retiredKid: string | null }> {
  const id = await requireCoop(db, coopId);
  const row = await newKeyRow(box, id);
  return db.transaction(async (tx) => {
    await lockCoopKeys(tx, id);
    const retired = await tx
      .update(coopKeys)
      .set({ retiredAt: new Date() })
      .where(and(eq(coopKeys.coopId, id), isNull(coopKeys.retiredAt)))
      .returning({ kid: coopKeys.kid });
    await tx.insert(coopKeys).values(row);
    const retiredKid = retired[0]?.kid ?? null;
    await appendAudit(tx, { actor, action: 'coop.key.rotate', subject: { type: 'coop', id }, details: { kid: row.kid, retiredKid } });
    return { kid: row.kid, retiredKid };
  });
}
