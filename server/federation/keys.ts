// The instance's federation key: signs its entity configuration and the subordinate statements it
// issues as anchor. ES256, apart from the sign-on keys, sealed under the master key; created on
// first use. Rotation adds a key and retires the old one, which stays published (verify only)
// until the statements it signed have expired.
import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { federationKeys } from './table.js';

export const label = (kid: string) => `federation-key:${kid}`;
const lock = sql`select pg_advisory_xact_lock(7243511)`;
/** Longest lifetime of a statement we sign: how long a retired key stays published. */
export const STATEMENT_LIFETIME_S = 86_400;

async function insertKey(db: Executor, box: SecretBox): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = `fed-${(await calculateJwkThumbprint(pub)).slice(0, 16)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  await db.insert(federationKeys).values({ kid, alg: 'ES256', privateSealed: box.seal(JSON.stringify(privateJwk), label(kid)), publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' } });
  return kid;
}

/** The key that signs now (created on first call; processes racing create one). */
export async function federationSigningKey(db: Db, box: SecretBox): Promise<JWK> {
  const read = async (ex: Executor) =>
    (await ex.select().from(federationKeys).where(isNull(federationKeys.retiredAt)).orderBy(desc(federationKeys.createdAt)).limit(1))[0];
  let row = await read(db);
  if (!row) {
    row = await db.transaction(async (tx) => {
      await tx.execute(lock);
      const existing = await read(tx);
      if (existing) return existing;
      const kid = await insertKey(tx, box);
      return (await tx.select().from(federationKeys).where(eq(federationKeys.kid, kid)))[0];
    });
  }
  return JSON.parse(box.open(row!.privateSealed, label(row!.kid))) as JWK;
}

/** Public keys to publish: the active one and those retired less than a statement lifetime ago. */
export async function federationPublicKeys(db: Db, now = Date.now()): Promise<JWK[]> {
  const rows = await db
    .select({ publicJwk: federationKeys.publicJwk, retiredAt: federationKeys.retiredAt })
    .from(federationKeys)
    .where(or(isNull(federationKeys.retiredAt), gt(federationKeys.retiredAt, new Date(now - STATEMENT_LIFETIME_S * 1000))))
    .orderBy(desc(federationKeys.createdAt));
  return rows.map((r) => r.publicJwk);
}

/** Adds a new federation key and retires the current one. */
export async function rotateFederationKey(db: Db, box: SecretBox): Promise<{ added: string; retired: string[] }> {
  return db.transaction(async (tx) => {
    await tx.execute(lock);
    const retired = await tx.update(federationKeys).set({ retiredAt: new Date() }).where(and(isNull(federationKeys.retiredAt))).returning({ kid: federationKeys.kid });
    return { added: await insertKey(tx, box), retired: retired.map((r) => r.kid) };
  });
}
