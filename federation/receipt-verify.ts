// Verifies a transfer receipt: a JWS in General JSON Serialization (RFC 7515
// §7.2.1) whose payload is the RFC 8785 canonical JSON of the transfer summary,
// signed first by the source co-op and then countersigned by the target co-op.
// Imports no database code: the CLI runs it offline against saved JWKS files.
// Version 2 (`version: 2`) names people only by pseudonymous references, the
// same the audit log uses; version 1 receipts (no `version`) still verify.
import { base64url, createLocalJWKSet, errors, flattenedVerify, type GeneralJWS, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { canonicalJson } from '../server/audit/canonical.js';

export const RECEIPT_TYP = 'meetplane-receipt+jws';
export const RECEIPT_ALG = 'EdDSA';
export type ReceiptRole = 'source' | 'target';
/** The order of the signatures in a receipt. */
export const RECEIPT_ROLES: readonly ReceiptRole[] = ['source', 'target'];

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');

/** The receipt format this code signs. */
export const RECEIPT_VERSION = 2;
/** How a version 2 receipt names a person: the audit log's HMAC reference ("none" when no person approved). */
export const PSEUDONYM_RE = /^p:[0-9a-f]{32}$/;

/** The signed summary of a completed transfer. Strict: an unknown field is an error, not ignored. */
export const ReceiptSummary = z
  .object({
    /** absent in version 1 receipts, whose refs were account ids */
    version: z.literal(RECEIPT_VERSION).optional(),
    transferId: Uuid,
    tenancyId: Uuid,
    sourceCoopId: Uuid,
    targetCoopId: Uuid,
    inventoryManifestSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'),
    policySetHash: z.string().min(1).max(200),
    approvals: z
      .array(z.object({ role: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/), ref: z.string().min(1).max(200) }).strict())
      .min(1)
      .max(20),
    /** The signed C2SP checkpoint note covering the transfer, or its size and base64 root hash. */
    auditCheckpoint: z.union([
      z.string().min(1).max(10_000),
      z.object({ size: z.number().int().nonnegative(), rootHash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256') }).strict(),
    ]),
    completedAt: z.iso.datetime({ offset: false }),
  })
  .strict()
  .refine((s) => s.sourceCoopId !== s.targetCoopId, { message: 'source and target co-op must differ', path: ['targetCoopId'] })
  .superRefine((s, ctx) => {
    if (s.version === undefined) return;
    s.approvals.forEach((a, i) => {
      if (!PSEUDONYM_RE.test(a.ref) && a.ref !== 'none')
        ctx.addIssue({ code: 'custom', path: ['approvals', i, 'ref'], message: 'must be a pseudonymous reference (p: and 32 hex digits): a receipt names no one by account id' });
    });
  });
export type ReceiptSummary = z.infer<typeof ReceiptSummary>;

export class ReceiptVerificationError extends Error {
  override name = 'ReceiptVerificationError';
}

const fail = (message: string): never => {
  throw new ReceiptVerificationError(message);
};

/** Checks a JWK Set holds public Ed25519 keys only, so a leaked private key is noticed, not used. */
export function parseJwks(value: unknown, what: string): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return fail(`${what} is not a JWK Set (no "keys" array)`);
  for (const k of keys as Array<Record<string, unknown>>) {
    if (typeof k !== 'object' || k === null) return fail(`${what} holds a key that is not an object`);
    if ('d' in k) return fail(`${what} contains private key material; refuse to use it (and rotate that key)`);
  }
  return { keys } as JSONWebKeySet;
}

function asGeneralJws(jws: unknown): GeneralJWS {
  const value = typeof jws === 'string' ? tryParse(jws) : jws;
  const j = value as Partial<GeneralJWS> | null;
  if (!j || typeof j !== 'object' || typeof j.payload !== 'string' || !Array.isArray(j.signatures))
    return fail('not a JWS in General JSON Serialization (needs "payload" and "signatures")');
  return j as GeneralJWS;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail('receipt is not valid JSON');
  }
}

export interface VerifiedReceipt {
  summary: ReceiptSummary;
  /** The key ids that signed, by role. */
  kids: Record<ReceiptRole, string>;
}

/**
 * Verifies both signatures, each against its own co-op's key set, and returns
 * the summary. Throws ReceiptVerificationError saying what is wrong.
 */
export async function verifyReceipt(jws: unknown, keys: { sourceJwks: unknown; targetJwks: unknown }): Promise<VerifiedReceipt> {
  const general = asGeneralJws(jws);
  const sets: Record<ReceiptRole, JSONWebKeySet> = {
    source: parseJwks(keys.sourceJwks, 'source JWKS'),
    target: parseJwks(keys.targetJwks, 'target JWKS'),
  };
  if (general.signatures.length !== RECEIPT_ROLES.length)
    fail(`expected ${RECEIPT_ROLES.length} signatures (source, then target countersignature), found ${general.signatures.length}`);

  const kids = {} as Record<ReceiptRole, string>;
  for (const [i, role] of RECEIPT_ROLES.entries()) {
    const sig = general.signatures[i]!;
    if (sig.header !== undefined) fail(`${role} signature carries an unprotected header; everything must be signed`);
    if (typeof sig.protected !== 'string') fail(`${role} signature has no protected header`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder().decode(base64url.decode(sig.protected!))) as Record<string, unknown>;
    } catch {
      return fail(`${role} signature has a protected header that is not base64url JSON`);
    }
    if (header['meetplane-role'] !== role)
      fail(`signature ${i + 1} should be the ${role} co-op's, but claims role ${JSON.stringify(header['meetplane-role'] ?? null)}`);
    if (header.typ !== RECEIPT_TYP) fail(`${role} signature has typ ${JSON.stringify(header.typ ?? null)}, expected ${RECEIPT_TYP}`);
    if (typeof header.kid !== 'string') fail(`${role} signature names no key (kid)`);
    try {
      await flattenedVerify({ payload: general.payload, protected: sig.protected, signature: sig.signature }, createLocalJWKSet(sets[role]), {
        algorithms: [RECEIPT_ALG],
      });
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey) fail(`${role} signature: key ${header.kid as string} is not in the ${role} co-op's JWKS`);
      if (e instanceof errors.JWSSignatureVerificationFailed) fail(`${role} signature does not match the payload (key ${header.kid as string})`);
      if (e instanceof errors.JOSEError) fail(`${role} signature: ${e.message}`);
      throw e;
    }
    kids[role] = header.kid as string;
  }
  if (kids.source === kids.target) fail('source and target signatures were made with the same key');

  const text = new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(general.payload));
  const parsed = ReceiptSummary.safeParse(tryParse(text));
  if (!parsed.success) return fail(`payload is not a receipt summary: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  // Signed bytes must be exactly the canonical form, so one summary has one receipt payload.
  if (canonicalJson(parsed.data) !== text) fail('payload is not RFC 8785 canonical JSON');
  return { summary: parsed.data, kids };
}
