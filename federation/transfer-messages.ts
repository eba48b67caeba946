// The signed messages of a transfer between meetplane instances (DESIGN: "the offer, acceptance,
// package manifest and receipt exchanged as signed JWTs"). Pure: this shapes, signs and checks
// them; the server resolves the sender's keys through the federation (trust chain or pin) and keeps
// the state. Each message is a JWT signed with the sender's federation key, with its own `typ`,
// addressed (`aud`) to the receiving instance, short-lived, with a `jti` the receiver remembers
// until `exp` so a copy cannot be played again.
import { createHash, randomUUID } from 'node:crypto';
import { importJWK, jwtVerify, decodeProtectedHeader, type JWK } from 'jose';
import { z } from 'zod';
import { decodeTyped, signTyped, STATEMENT_ALGS, type Jwks } from './entity-statement.js';
import { CosignedCheckpoint } from './peer-receipt.js';

export const OFFER_TYP = 'transfer-offer+jwt';
export const ANSWER_TYP = 'transfer-answer+jwt';
/** source -> target, after the freeze: where the package's manifest is, and its SHA-256 */
export const MANIFEST_TYP = 'transfer-manifest+jwt';
/** target -> source: every file of the manifest is stored at the target and matches */
export const VERIFIED_TYP = 'transfer-verified+jwt';
/** source -> target: the source withdrew the transfer before it moved anything (the target forgets what it pulled) */
export const CANCEL_TYP = 'transfer-cancel+jwt';
/** source -> target: the source switched its front ends over to the target; the tenancy goes live there */
export const SWITCHED_TYP = 'transfer-switched+jwt';
/**
 * After the switch, the receipt: source -> target, the source's checkpoint cosigned by the target and
 * its terms; target -> source, the receipt the target signed; source -> target, the receipt signed by both.
 */
export const RECEIPT_TYP = 'transfer-receipt+jwt';
export const MESSAGE_TYPES = [OFFER_TYP, ANSWER_TYP, MANIFEST_TYP, VERIFIED_TYP, CANCEL_TYP, SWITCHED_TYP, RECEIPT_TYP] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
/** What a transfer endpoint accepts: the message JWT itself as the body. */
export const MESSAGE_CONTENT_TYPE = 'application/jwt';
/** A message is valid this long: long enough for a slow network, short enough that ids are kept briefly. */
export const MESSAGE_LIFETIME_S = 600;

export class MessageError extends Error {
  override name = 'MessageError';
}

const Country = z.string().regex(/^[A-Z]{2}$/);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
export const Residency = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('eea') }).strict(),
  z.object({ kind: z.literal('countries'), countries: z.array(Country).min(1).max(300) }).strict(),
]);

/** What the target learns about the tenancy before accepting it: sizes and constraints, no personal data. */
export const offerSummarySchema = z
  .object({
    name: z.string().min(1).max(200),
    slug: z.string().min(1).max(100),
    rooms: z.number().int().min(0),
    recordings: z.number().int().min(0),
    recording_bytes: z.number().int().min(0),
    members: z.number().int().min(0),
    retention_days: z.number().int().min(0).nullable(),
    residency: Residency,
  })
  .strict();
export type OfferSummary = z.infer<typeof offerSummarySchema>;

const common = {
  iss: z.string().url(),
  aud: z.string().url(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(8).max(100),
  transfer_id: z.string().uuid(),
};

export const offerClaimsSchema = z
  .object({
    ...common,
    source: z.object({ coop: z.object({ name: z.string().min(1).max(200), jurisdiction: Country, legal_regime: z.string().min(1).max(40) }).strict() }).strict(),
    target: z.object({ coop: z.string().min(1).max(100), cluster: z.string().min(1).max(100) }).strict(),
    tenancy: offerSummarySchema,
    data_protection: z
      .object({
        regime: z.string().min(1).max(40),
        basis: z.enum(['adequacy', 'sccs', 'art49', 'domestic']),
        sccs_documents: z.array(Sha256).max(20),
        impact_assessment: Sha256.nullable(),
        processing_agreement: Sha256,
        /** the source's decision on the target's stated facts: the rule set it ran and what it found */
        policy_set_hash: z.string().min(1).max(200),
        registry_version: z.string().min(1).max(200),
      })
      .strict(),
    notice_days: z.number().int().min(0).max(365),
  })
  .strict();
export type OfferClaims = z.infer<typeof offerClaimsSchema>;

export const answerClaimsSchema = z
  .object({
    ...common,
    /** the offerDigest of the terms answered: an answer holds for exactly those terms */
    offer_sha256: Sha256,
    decision: z.enum(['accepted', 'refused']),
    cluster: z.string().min(1).max(100).optional(),
    cluster_country: Country.optional(),
    policy_ids: z.array(z.string().min(1).max(100)).max(50),
    reasons: z.array(z.string().min(1).max(1000)).max(50),
    approver: z.string().min(1).max(300),
  })
  .strict()
  .refine((a) => a.decision === 'refused' || (a.cluster !== undefined && a.cluster_country !== undefined), { message: 'an acceptance names the cluster and its country' });
export type AnswerClaims = z.infer<typeof answerClaimsSchema>;

export const manifestClaimsSchema = z
  .object({
    ...common,
    offer_sha256: Sha256,
    /** SHA-256 (hex) of the manifest's exact JSON text, served at manifest_url */
    manifest_sha256: Sha256,
    files: z.number().int().min(0),
    bytes: z.number().int().min(0),
    manifest_url: z.string().url(),
    capability_url: z.string().url(),
  })
  .strict();
export type ManifestClaims = z.infer<typeof manifestClaimsSchema>;

export const verifiedClaimsSchema = z
  .object({
    ...common,
    manifest_sha256: Sha256,
    files: z.number().int().min(0),
    bytes: z.number().int().min(0),
    /** the BBB API of the tenancy created at the target (same secret): where the source forwards its front ends' calls */
    gateway_url: z.string().url().max(2000),
  })
  .strict();
export type VerifiedClaims = z.infer<typeof verifiedClaimsSchema>;

export const cancelClaimsSchema = z.object({ ...common, reason: z.string().min(1).max(1000) }).strict();
export type CancelClaims = z.infer<typeof cancelClaimsSchema>;

/** Names the manifest (so the package) whose tenancy goes live at the target. */
export const switchedClaimsSchema = z.object({ ...common, manifest_sha256: Sha256 }).strict();
export type SwitchedClaims = z.infer<typeof switchedClaimsSchema>;

const ReceiptJws = z
  .object({ payload: z.string().min(1).max(100_000), signatures: z.array(z.object({ protected: z.string().min(1).max(2000), signature: z.string().min(1).max(2000) }).strict()).max(4) })
  .strict();

/** Either the source's terms (its checkpoint, approvals and policy-set hash) or a receipt (one signature or both). */
export const receiptClaimsSchema = z
  .object({
    ...common,
    checkpoint: CosignedCheckpoint.optional(),
    approvals: z.array(z.object({ role: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/), ref: z.string().min(1).max(300) }).strict()).min(1).max(20).optional(),
    policy_set_hash: z.string().min(1).max(200).optional(),
    receipt: ReceiptJws.optional(),
  })
  .strict()
  .refine((m) => (m.receipt === undefined) === (m.checkpoint !== undefined && m.approvals !== undefined && m.policy_set_hash !== undefined), {
    message: 'a receipt message carries either the terms (checkpoint, approvals, policy_set_hash) or a receipt',
  });
export type ReceiptClaims = z.infer<typeof receiptClaimsSchema>;

/** The package's manifest as the source serves it: every file, its size and SHA-256, sorted by path. */
export const manifestSchema = z
  .object({
    transfer_id: z.string().uuid(),
    files: z.array(z.object({ path: z.string().min(1).max(1000), size: z.number().int().min(0), sha256: Sha256 }).strict()).max(1_000_000),
    /** SHA-256 (hex) of the tenancy's content (tenancy-content.ts) as the exact JSON text the source serves */
    tenancy_sha256: Sha256,
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

const SCHEMAS = { [OFFER_TYP]: offerClaimsSchema, [ANSWER_TYP]: answerClaimsSchema, [MANIFEST_TYP]: manifestClaimsSchema, [VERIFIED_TYP]: verifiedClaimsSchema, [CANCEL_TYP]: cancelClaimsSchema, [SWITCHED_TYP]: switchedClaimsSchema, [RECEIPT_TYP]: receiptClaimsSchema } as const;
/** The claims of a message of type T. */
export type ClaimsOf<T extends MessageType> = T extends typeof OFFER_TYP
  ? OfferClaims
  : T extends typeof ANSWER_TYP
    ? AnswerClaims
    : T extends typeof MANIFEST_TYP
      ? ManifestClaims
      : T extends typeof VERIFIED_TYP
        ? VerifiedClaims
        : T extends typeof CANCEL_TYP
          ? CancelClaims
          : T extends typeof SWITCHED_TYP
            ? SwitchedClaims
            : ReceiptClaims;
type Unsigned<C> = Omit<C, 'iat' | 'exp' | 'jti'>;

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** JSON with object keys in code-point order at every level: one text for the same terms. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * The digest of an offer's terms: SHA-256 (hex) of its claims without iat, exp and jti. A re-signed
 * offer (a retry after the first copy expired) has the same digest; any changed term another. An
 * answer names the digest of the terms it answers.
 */
export function offerDigest(offer: OfferClaims): string {
  const { iat: _iat, exp: _exp, jti: _jti, ...terms } = offer;
  return sha256Hex(sortedJson(terms));
}

/** Signs a message of type `typ` with the sender's federation key; `iat`, `exp` and a fresh `jti` are added. */
export async function signMessage<T extends MessageType>(typ: T, claims: Unsigned<ClaimsOf<T>>, privateJwk: JWK, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const full = { ...claims, iat, exp: iat + MESSAGE_LIFETIME_S, jti: randomUUID() };
  const parsed = SCHEMAS[typ].safeParse(full);
  if (!parsed.success) throw new MessageError(`refusing to sign a malformed ${typ}: ${describe(parsed.error)}`);
  return signTyped(full, privateJwk, typ);
}

/**
 * One of our own stored messages, signed afresh when its copy expires within `marginS`: the same
 * claims (so the same terms and digest) with a new iat, exp and jti. A message still fresh is returned
 * as it is. For retries that outlast MESSAGE_LIFETIME_S (a peer unreachable for a while).
 */
export async function freshCopy(jwt: string, privateJwk: JWK, now = Date.now(), marginS = 60): Promise<string> {
  const { header, payload } = decodeTyped(jwt, String(decodeProtectedHeader(jwt).typ), () => new MessageError('not a JWT'));
  if (typeof payload.exp === 'number' && payload.exp - marginS > now / 1000) return jwt;
  const { iat: _iat, exp: _exp, jti: _jti, ...claims } = payload;
  return signMessage(header.typ as MessageType, claims as never, privateJwk, now);
}

/** The type and claimed issuer of a message, unchecked: to learn whose keys must check it. */
export function peekMessage(jwt: string): { typ: MessageType; iss: string } {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(jwt).typ;
  } catch {
    throw new MessageError('not a JWT');
  }
  if (!MESSAGE_TYPES.includes(typ as MessageType)) throw new MessageError(`typ must be one of ${MESSAGE_TYPES.join(', ')}`);
  const { payload } = decodeTyped(jwt, typ as string, () => new MessageError('not a JWT'));
  if (typeof payload.iss !== 'string') throw new MessageError('the message names no issuer');
  return { typ: typ as MessageType, iss: payload.iss };
}

/**
 * Checks a message of type `typ`: signed by a key of `jwks` (the issuer's, as the federation resolved
 * it) that its kid names, issued by `issuer` to `audience`, not expired, and well formed.
 */
export async function verifyMessage<T extends MessageType>(
  jwt: string,
  typ: T,
  opts: { jwks: Jwks; issuer: string; audience: string; now?: number },
): Promise<ClaimsOf<T>> {
  const { header } = decodeTyped(jwt, typ, (wrong) => new MessageError(wrong === 'typ' ? `typ must be ${typ}` : wrong));
  if (!header.kid) throw new MessageError('the message names no key (kid)');
  const jwk = opts.jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new MessageError(`signed by key ${header.kid}, which is not among ${opts.issuer}'s federation keys`);
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, await importJWK(jwk, header.alg), {
      typ,
      algorithms: STATEMENT_ALGS,
      issuer: opts.issuer,
      audience: opts.audience,
      currentDate: new Date(opts.now ?? Date.now()),
      clockTolerance: 30,
      requiredClaims: ['iat', 'exp', 'jti'],
    }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') throw new MessageError('the message has expired');
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new MessageError(`the message's ${(err as { claim?: string }).claim ?? 'claims'} is not valid here`);
    throw new MessageError(`signature or claims invalid (${code ?? 'error'})`);
  }
  if (payload.exp! - payload.iat! > MESSAGE_LIFETIME_S) throw new MessageError(`a message may be valid for at most ${MESSAGE_LIFETIME_S} s`);
  const parsed = SCHEMAS[typ].safeParse(payload);
  if (!parsed.success) throw new MessageError(`malformed ${typ}: ${describe(parsed.error)}`);
  return parsed.data as ClaimsOf<T>;
}

function describe(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || '(message)'}: ${i.message}` : 'invalid';
}
