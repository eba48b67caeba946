// The receipt of a transfer between meetplane instances: a JWS in General JSON Serialization
// (RFC 7515 §7.2.1) whose payload is the RFC 8785 canonical JSON of the transfer's summary, signed
// by both instances' federation keys (the source's signature first, then the target's; each
// protected header names the role and the instance). The summary names one audit checkpoint of
// each instance that includes the transfer's entries there, each cosigned by the OTHER instance's
// witness, with the log's and the witness's verifier keys (both instances sign the receipt, so both
// vouch for them). Pure, no database: the CLI and either instance verify with the two JWKS.
import { base64url, createLocalJWKSet, errors, flattenedVerify, GeneralSign, type GeneralJWS, type JSONWebKeySet, type JWK, importJWK } from 'jose';
import { z } from 'zod';
import { canonicalBytes, canonicalJson } from '../server/audit/canonical.js';
import { NoteError, openNote } from '../server/audit/note.js';
import { parseCosignerVkey, verifyCosignatures } from './cosignature.js';

export const PEER_RECEIPT_TYP = 'meetplane-peer-receipt+jws';
export const PEER_RECEIPT_VERSION = 1;
export type PeerReceiptRole = 'source' | 'target';
/** The order of the signatures in a complete receipt. */
export const PEER_RECEIPT_ROLES: readonly PeerReceiptRole[] = ['source', 'target'];
/** Federation keys are ES256 (server/federation/keys.ts); the others the federation accepts too. */
const ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'];

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256');

/** One instance's checkpoint: the signed note with the other instance's cosignature line, and the keys that check it. */
export const CosignedCheckpoint = z
  .object({
    /** the C2SP signed note: the log's signature and the other instance's cosignature */
    note: z.string().min(1).max(20_000),
    /** the log's verifier key (the instance's `audit_log.verifier_key`) */
    logKey: z.string().min(1).max(500),
    /** the other instance's witness key (cosignature/v1), which cosigned this checkpoint */
    witnessKey: z.string().min(1).max(500),
  })
  .strict();
export type CosignedCheckpoint = z.infer<typeof CosignedCheckpoint>;

const Side = z.object({ entityId: z.string().url().max(2000), checkpoint: CosignedCheckpoint }).strict();

/** The signed summary. Strict: an unknown field is an error, not ignored. */
export const PeerReceiptSummary = z
  .object({
    version: z.literal(PEER_RECEIPT_VERSION),
    transferId: Uuid,
    tenancyId: Uuid,
    source: Side,
    target: Side,
    /** SHA-256 of the package's manifest text, and of the tenancy's content the manifest names */
    manifestSha256: Sha256,
    tenancySha256: Sha256,
    policySetHash: z.string().min(1).max(200),
    /** the tenancy's BBB API at the target: where front ends point once the source stops forwarding */
    gatewayUrl: z.string().url().max(2000),
    /** who approved, as opaque references (the source's pseudonyms, the target's approver reference) */
    approvals: z
      .array(z.object({ role: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/), ref: z.string().min(1).max(300) }).strict())
      .min(1)
      .max(20),
    completedAt: z.iso.datetime({ offset: false }),
  })
  .strict()
  .refine((s) => s.source.entityId !== s.target.entityId, { message: 'source and target instance must differ', path: ['target', 'entityId'] });
export type PeerReceiptSummary = z.infer<typeof PeerReceiptSummary>;

export type PeerReceiptJws = { payload: string; signatures: Array<{ protected: string; signature: string }> };

export class PeerReceiptError extends Error {
  override name = 'PeerReceiptError';
}
const fail = (message: string): never => {
  throw new PeerReceiptError(message);
};

/**
 * Checks one checkpoint: signed by the log key (named after the origin the note states), cosigned by
 * the witness key; returns its origin and size.
 */
export function checkCosignedCheckpoint(c: CosignedCheckpoint, what: string): { origin: string; size: number; rootHash: string } {
  try {
    const cp = openNote(c.note, c.logKey);
    const cosigner = parseCosignerVkey(c.witnessKey);
    if (verifyCosignatures(c.note, [cosigner]).length === 0) fail(`${what}: not cosigned by the other instance's witness (${cosigner.name})`);
    return { origin: cp.origin, size: cp.size, rootHash: Buffer.from(cp.rootHash).toString('base64') };
  } catch (e) {
    if (e instanceof NoteError) return fail(`${what}: ${e.message}`);
    throw e;
  }
}

/** Validates a summary (every bad field named). */
export function parseSummary(value: unknown): PeerReceiptSummary {
  const parsed = PeerReceiptSummary.safeParse(value);
  if (!parsed.success) return fail(`not a receipt summary: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The summary a receipt signs, from its payload (not verified: the signatures are checked apart). */
export function summaryOf(jws: PeerReceiptJws): PeerReceiptSummary {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(jws.payload));
  } catch {
    return fail('the payload is not base64url UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('the payload is not JSON');
  }
  const summary = parseSummary(value);
  // Signed bytes must be exactly the canonical form, so one summary has one receipt payload.
  if (canonicalJson(summary) !== text) fail('the payload is not RFC 8785 canonical JSON');
  return summary;
}

/** One instance's signature over the summary, with its role and entity id in the protected header. */
export async function signAs(summary: PeerReceiptSummary, role: PeerReceiptRole, privateJwk: JWK): Promise<PeerReceiptJws> {
  const entityId = summary[role].entityId;
  const alg = privateJwk.alg ?? 'ES256';
  const signer = new GeneralSign(canonicalBytes(parseSummary(summary)));
  signer.addSignature(await importJWK(privateJwk, alg)).setProtectedHeader({ alg, kid: privateJwk.kid, typ: PEER_RECEIPT_TYP, 'meetplane-role': role, 'meetplane-entity': entityId });
  const jws = await signer.sign();
  return { payload: jws.payload, signatures: jws.signatures.map((s) => ({ protected: s.protected!, signature: s.signature })) };
}

/** Joins the two instances' signatures over the same payload, source first. */
export function joinSignatures(source: PeerReceiptJws, target: PeerReceiptJws): PeerReceiptJws {
  if (source.payload !== target.payload) fail('the two signatures are over different summaries');
  return { payload: source.payload, signatures: [source.signatures[0]!, target.signatures[0]!] };
}

function asJws(value: unknown): PeerReceiptJws {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return fail('the receipt is not valid JSON');
    }
  }
  const j = v as Partial<GeneralJWS> | null;
  if (!j || typeof j !== 'object' || typeof j.payload !== 'string' || !Array.isArray(j.signatures)) return fail('not a JWS in General JSON Serialization (needs "payload" and "signatures")');
  return j as PeerReceiptJws;
}

/** Whether `value` looks like a receipt between instances (its first signature's typ), to choose the verifier. */
export function isPeerReceipt(value: unknown): boolean {
  try {
    const sig = asJws(value).signatures[0] as { protected?: unknown } | undefined;
    return !!sig && protectedHeader(sig, 'the first signature').typ === PEER_RECEIPT_TYP;
  } catch (e) {
    if (e instanceof PeerReceiptError) return false;
    throw e;
  }
}

function protectedHeader(sig: { protected?: unknown; header?: unknown }, what: string): Record<string, unknown> {
  if (sig.header !== undefined) fail(`${what} carries an unprotected header; everything must be signed`);
  if (typeof sig.protected !== 'string') fail(`${what} has no protected header`);
  try {
    return JSON.parse(new TextDecoder().decode(base64url.decode(sig.protected as string))) as Record<string, unknown>;
  } catch {
    return fail(`${what} has a protected header that is not base64url JSON`);
  }
}

/** Verifies the one signature of `role` at position `index`, against that instance's JWKS; returns its kid. */
async function verifySignature(jws: PeerReceiptJws, index: number, role: PeerReceiptRole, summary: PeerReceiptSummary, jwks: JSONWebKeySet): Promise<string> {
  const sig = jws.signatures[index]!;
  const header = protectedHeader(sig, `the ${role}'s signature`);
  if (header['meetplane-role'] !== role) fail(`signature ${index + 1} should be the ${role}'s, but claims role ${JSON.stringify(header['meetplane-role'] ?? null)}`);
  if (header['meetplane-entity'] !== summary[role].entityId) fail(`the ${role}'s signature names instance ${JSON.stringify(header['meetplane-entity'] ?? null)}, the summary ${summary[role].entityId}`);
  if (header.typ !== PEER_RECEIPT_TYP) fail(`the ${role}'s signature has typ ${JSON.stringify(header.typ ?? null)}, expected ${PEER_RECEIPT_TYP}`);
  if (typeof header.kid !== 'string') fail(`the ${role}'s signature names no key (kid)`);
  try {
    await flattenedVerify({ payload: jws.payload, protected: sig.protected, signature: sig.signature }, createLocalJWKSet(jwks), { algorithms: ALGS });
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) fail(`the ${role}'s signature: key ${header.kid as string} is not among ${summary[role].entityId}'s federation keys`);
    if (e instanceof errors.JWSSignatureVerificationFailed) fail(`the ${role}'s signature does not match the summary (key ${header.kid as string})`);
    if (e instanceof errors.JOSEError) fail(`the ${role}'s signature: ${e.message}`);
    throw e;
  }
  return header.kid as string;
}

function publicJwks(value: unknown, what: string): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return fail(`${what} is not a JWK Set (no "keys" array)`);
  for (const k of keys as Array<Record<string, unknown>>) {
    if (typeof k !== 'object' || k === null) return fail(`${what} holds a key that is not an object`);
    if ('d' in k) return fail(`${what} contains private key material; refuse to use it (and rotate that key)`);
  }
  return { keys } as JSONWebKeySet;
}

export interface VerifiedPeerReceipt {
  summary: PeerReceiptSummary;
  kids: Record<PeerReceiptRole, string>;
  checkpoints: Record<PeerReceiptRole, { origin: string; size: number; rootHash: string }>;
}

/**
 * Verifies a receipt: its summary, both checkpoints (each signed by its log key and cosigned by the
 * other instance's witness), and exactly two signatures, the source's then the target's, each by a
 * key of that instance's federation JWKS. `only: 'target'` checks a receipt the target signed so far
 * (the message it sends the source). Throws PeerReceiptError saying what is wrong.
 */
export async function verifyPeerReceipt(
  value: unknown,
  keys: { sourceJwks?: unknown; targetJwks: unknown },
  only?: 'target',
): Promise<VerifiedPeerReceipt> {
  const jws = asJws(value);
  const roles: PeerReceiptRole[] = only ? ['target'] : [...PEER_RECEIPT_ROLES];
  if (jws.signatures.length !== roles.length)
    fail(only ? `expected the target's signature alone, found ${jws.signatures.length} signatures` : `expected 2 signatures (the source's, then the target's), found ${jws.signatures.length}`);
  const summary = summaryOf(jws);
  const checkpoints = {
    source: checkCosignedCheckpoint(summary.source.checkpoint, "the source's checkpoint"),
    target: checkCosignedCheckpoint(summary.target.checkpoint, "the target's checkpoint"),
  };
  const kids = {} as Record<PeerReceiptRole, string>;
  for (const [i, role] of roles.entries()) {
    const jwks = publicJwks(role === 'source' ? keys.sourceJwks : keys.targetJwks, `the ${role}'s JWKS`);
    kids[role] = await verifySignature(jws, i, role, summary, jwks);
  }
  return { summary, kids, checkpoints };
}
