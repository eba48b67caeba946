// Signing keys (ES256 and RS256) and cookie keys for the provider, generated
// on first start and stored sealed under the master key. Rotation adds a new
// generation and retires the previous one: a retired signing key is still
// published (key_ops ["verify"]) until every token it signed has expired, and
// a retired cookie key still verifies cookies until sessions signed with it end.
import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { oidcKeys } from './table.js';

/**
 * The algorithms the provider signs with, one key each per generation. The JWKS
 * is shared by every client, so it holds only keys every relying party can
 * parse: Ed25519 keys (generated before) are no longer published, because
 * cjose (Apache's mod_auth_openidc) cannot read them.
 */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
const published = (alg: string | null) => (SIGNING_ALGS as readonly string[]).includes(alg ?? '');

export const label = (kid: string) => `oidc-key:${kid}`;
// Serialises key creation and rotation between processes.
const sqlLock = sql`select pg_advisory_xact_lock(7243503)`;

export interface ProviderKeys {
  /** Private JWKs for oidc-provider, newest active first; retired ones verify only. */
  jwks: { keys: JWK[] };
  /** Public JWKs the REST API verifies access tokens with. */
  publicJwks: { keys: JWK[] };
  /** Cookie signing keys, newest first (keygrip order). */
  cookieKeys: string[];
  /** Changes whenever a key is added or retired. */
  fingerprint: string;
}

async function newSigningKey(alg: SigningAlg): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint names the key uniquely.
  const kid = `${alg.toLowerCase()}-${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}`;
  const privateJwk = await exportJWK(privateKey);
  return { kid, privateJwk: { ...privateJwk, kid, alg, use: 'sig' }, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

async function insertSigningKey(db: Executor, box: SecretBox, alg: SigningAlg): Promise<void> {
  const k = await newSigningKey(alg);
  await db.insert(oidcKeys).values({ kid: k.kid, kind: 'signing', alg, privateSealed: box.seal(JSON.stringify(k.privateJwk), label(k.kid)), publicJwk: k.publicJwk });
}

async function insertGeneration(db: Executor, box: SecretBox): Promise<void> {
  for (const alg of SIGNING_ALGS) await insertSigningKey(db, box, alg);
  const cookieKid = `cookie-${randomBytes(8).toString('hex')}`;
  await db.insert(oidcKeys).values({ kid: cookieKid, kind: 'cookie', privateSealed: box.seal(randomBytes(32).toString('base64url'), label(cookieKid)) });
}

/**
 * Creates the first generation unless keys exist (several processes may race:
 * one wins), and adds a key for an algorithm the active generation lacks (an
 * instance from before RS256 gets one at its next start).
 */
export async function ensureKeys(db: Db, box: SecretBox): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sqlLock);
    const active = await tx.select({ kind: oidcKeys.kind, alg: oidcKeys.alg }).from(oidcKeys).where(isNull(oidcKeys.retiredAt));
    if (active.length === 0) return insertGeneration(tx, box);
    for (const alg of SIGNING_ALGS) if (!active.some((k) => k.kind === 'signing' && k.alg === alg)) await insertSigningKey(tx, box, alg);
  });
}

/** The active private key for `alg` (logout tokens are signed with it, as ID tokens are). */
export async function activeSigningKey(db: Executor, box: SecretBox, alg: SigningAlg): Promise<JWK | undefined> {
  const [row] = await db
    .select()
    .from(oidcKeys)
    .where(and(eq(oidcKeys.kind, 'signing'), eq(oidcKeys.alg, alg), isNull(oidcKeys.retiredAt)))
    .orderBy(desc(oidcKeys.createdAt))
    .limit(1);
  return row ? (JSON.parse(box.open(row.privateSealed, label(row.kid))) as JWK) : undefined;
}

/** Adds a new generation of every key and retires the current ones. */
export async function rotateKeys(db: Db, box: SecretBox): Promise<{ added: string[]; retired: string[] }> {
  return db.transaction(async (tx) => {
    await tx.execute(sqlLock);
    const retired = await tx.update(oidcKeys).set({ retiredAt: new Date() }).where(isNull(oidcKeys.retiredAt)).returning({ kid: oidcKeys.kid });
    const before = new Set((await tx.select({ kid: oidcKeys.kid }).from(oidcKeys)).map((r) => r.kid));
    await insertGeneration(tx, box);
    const added = (await tx.select({ kid: oidcKeys.kid }).from(oidcKeys)).map((r) => r.kid).filter((k) => !before.has(k));
    return { added, retired: retired.map((r) => r.kid) };
  });
}

/**
 * The keys in use: active ones, plus signing keys retired less than
 * `verifyGraceMs` ago and cookie keys retired less than `cookieGraceMs` ago.
 */
export async function loadKeys(db: Db, box: SecretBox, verifyGraceMs: number, cookieGraceMs: number, now = Date.now()): Promise<ProviderKeys> {
  const rows = await db
    .select()
    .from(oidcKeys)
    .where(or(isNull(oidcKeys.retiredAt), gt(oidcKeys.retiredAt, new Date(now - Math.max(verifyGraceMs, cookieGraceMs)))))
    .orderBy(asc(oidcKeys.retiredAt), desc(oidcKeys.createdAt), asc(oidcKeys.kid));
  // NULLS sort last in ascending order on PostgreSQL: put the active keys first.
  rows.sort((a, b) => Number(a.retiredAt !== null) - Number(b.retiredAt !== null));
  const jwks: JWK[] = [];
  const publicJwks: JWK[] = [];
  const cookieKeys: string[] = [];
  for (const r of rows) {
    const age = r.retiredAt ? now - r.retiredAt.getTime() : 0;
    if (r.kind === 'cookie') {
      if (age <= cookieGraceMs) cookieKeys.push(box.open(r.privateSealed, label(r.kid)));
      continue;
    }
    if (age > verifyGraceMs || !published(r.alg)) continue;
    const jwk = JSON.parse(box.open(r.privateSealed, label(r.kid))) as JWK;
    jwks.push(r.retiredAt ? { ...jwk, key_ops: ['verify'] } : jwk);
    publicJwks.push(r.publicJwk as JWK);
  }
  const fingerprint = rows.map((r) => `${r.kid}:${r.retiredAt?.getTime() ?? '-'}`).join(',');
  return { jwks: { keys: jwks }, publicJwks: { keys: publicJwks }, cookieKeys, fingerprint };
}

/** A cheap check whether the key set changed since `fingerprint` was taken. */
export async function keysFingerprint(db: Db, verifyGraceMs: number, cookieGraceMs: number, now = Date.now()): Promise<string> {
  const rows = await db
    .select({ kid: oidcKeys.kid, retiredAt: oidcKeys.retiredAt })
    .from(oidcKeys)
    .where(or(isNull(oidcKeys.retiredAt), gt(oidcKeys.retiredAt, new Date(now - Math.max(verifyGraceMs, cookieGraceMs)))))
    .orderBy(asc(oidcKeys.retiredAt), desc(oidcKeys.createdAt), asc(oidcKeys.kid));
  rows.sort((a, b) => Number(a.retiredAt !== null) - Number(b.retiredAt !== null));
  return rows.map((r) => `${r.kid}:${r.retiredAt?.getTime() ?? '-'}`).join(',');
}

export async function listKeys(db: Db) {
  return db
    .select({ kid: oidcKeys.kid, kind: oidcKeys.kind, alg: oidcKeys.alg, createdAt: oidcKeys.createdAt, retiredAt: oidcKeys.retiredAt })
    .from(oidcKeys)
    .orderBy(desc(oidcKeys.createdAt), asc(oidcKeys.kid));
}
