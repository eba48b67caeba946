// Trust marks (OpenID Federation 1.0, §7; text followed: draft 48 of February 2026, the last
// before the final text, whose claim names it shares: trust_mark_type, not the earlier `id`).
// A trust mark is a JWT of type trust-mark+jwt a trust mark issuer signs about a subject; the
// subject publishes it in its entity configuration (`trust_marks`), and the trust anchor says in
// its own configuration which issuers it accepts for each type (`trust_mark_issuers`). Pure:
// signing, reading and the validation of §7.3, with the issuer's keys supplied by the caller.
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { z } from 'zod';
import { decodeTyped, signTyped, STATEMENT_ALGS, type Jwks } from './entity-statement.js';

export const TRUST_MARK_TYP = 'trust-mark+jwt';
export const TRUST_MARK_CONTENT_TYPE = 'application/trust-mark+jwt';
export const TRUST_MARK_STATUS_TYP = 'trust-mark-status-response+jwt';
export const TRUST_MARK_STATUS_CONTENT_TYPE = 'application/trust-mark-status-response+jwt';
/** Status values of §8.4.2 (others may be defined; anything but active drops the mark). */
export type TrustMarkStatus = 'active' | 'expired' | 'revoked' | 'invalid';
/** Clock skew allowed on iat (a mark "issued" a little in the future of a slow clock is not refused). */
const IAT_LEEWAY_S = 60;

const url = z.string().url();
export const trustMarkClaimsSchema = z.looseObject({
  iss: url,
  sub: url,
  trust_mark_type: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int().optional(),
  logo_uri: url.optional(),
  ref: url.optional(),
  delegation: z.string().optional(),
});
export type TrustMarkClaims = z.infer<typeof trustMarkClaimsSchema>;

/** An element of an entity configuration's `trust_marks`. */
export const trustMarkEntrySchema = z.looseObject({ trust_mark_type: z.string().min(1), trust_mark: z.string().min(1) });
export type TrustMarkEntry = z.infer<typeof trustMarkEntrySchema>;

/** The trust anchor's `trust_mark_issuers`: type → the issuers it accepts (empty: anyone). */
export const trustMarkIssuersSchema = z.record(z.string(), z.array(z.string()));
export type TrustMarkIssuers = z.infer<typeof trustMarkIssuersSchema>;

export class TrustMarkError extends Error {
  override name = 'TrustMarkError';
}

export interface IssueInput {
  iss: string;
  sub: string;
  trust_mark_type: string;
  /** Seconds since the epoch; absent: the mark does not expire (its status endpoint still answers). */
  exp?: number;
  ref?: string;
  logo_uri?: string;
  /** Identifies the grant behind the mark, so the status endpoint can tell a revoked grant from a later one. */
  jti?: string;
}

export async function signTrustMark(input: IssueInput, privateJwk: JWK, now = Date.now()): Promise<string> {
  const claims = Object.fromEntries(Object.entries({ ...input, iat: Math.floor(now / 1000) }).filter(([, v]) => v !== undefined));
  return signTyped(claims, privateJwk, TRUST_MARK_TYP);
}

/** The claims of a trust mark without checking its signature; refuses a JWT of another type. */
export function peekTrustMark(jwt: string): TrustMarkClaims {
  const { header, payload } = decodeTyped(jwt, TRUST_MARK_TYP, (wrong) => new TrustMarkError(wrong === 'typ' ? `typ must be ${TRUST_MARK_TYP}` : wrong));
  if (!header.alg || !STATEMENT_ALGS.includes(header.alg)) throw new TrustMarkError(`alg ${header.alg ?? '(none)'} is not accepted`);
  if (!header.kid) throw new TrustMarkError('no kid in its header');
  const parsed = trustMarkClaimsSchema.safeParse(payload);
  if (!parsed.success) throw new TrustMarkError(`malformed trust mark: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Checks a signed JWT of type `typ` with the key of `jwks` its kid names; returns its payload. */
async function verifyWith(jwt: string, jwks: Jwks, typ: string, now: number): Promise<void> {
  const { kid, alg } = decodeProtectedHeader(jwt);
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new TrustMarkError(`signed by key ${kid}, which its issuer does not publish`);
  try {
    await jwtVerify(jwt, await importJWK(jwk, alg), { typ, algorithms: STATEMENT_ALGS, currentDate: new Date(now), clockTolerance: 0 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') throw new TrustMarkError('expired');
    throw new TrustMarkError(`signature or claims invalid (${code ?? 'error'})`);
  }
}

/** What a resolver knows about an issuer it trusts: its federation keys and its status endpoint. */
export interface TrustMarkIssuer {
  jwks: Jwks;
  statusEndpoint?: string;
}

export interface VerifyContext {
  /** The entity whose configuration carries the marks. */
  subject: string;
  /** The trust anchor's trust_mark_issuers claim (as published: checked here). */
  trustMarkIssuers: unknown;
  /** The trust anchor's trust_mark_owners claim: a type listed there needs a delegation. */
  trustMarkOwners?: unknown;
  /** The issuer's keys, from a configuration the caller trusts; throws when it cannot be trusted. */
  issuer(iss: string): Promise<TrustMarkIssuer>;
  now: number;
}

export interface VerifiedTrustMark {
  trust_mark_type: string;
  iss: string;
  sub: string;
  iat: number;
  exp?: number;
  logo_uri?: string;
  ref?: string;
  /** The mark as published (what a resolve response carries). */
  jwt: string;
  /** Where its issuer answers for its status, if it publishes such an endpoint. */
  statusEndpoint?: string;
  /** The issuer's keys the mark was checked with (to check the status response with the same). */
  issuerJwks: Jwks;
}

export interface DroppedTrustMark {
  trust_mark_type: string;
  iss?: string;
  reason: string;
}

export interface TrustMarkReport {
  valid: VerifiedTrustMark[];
  dropped: DroppedTrustMark[];
}

/** §7.3: one element of `trust_marks`, checked against the anchor's issuers and the issuer's keys. */
export async function verifyTrustMark(entry: unknown, ctx: VerifyContext): Promise<VerifiedTrustMark> {
  const e = trustMarkEntrySchema.safeParse(entry);
  if (!e.success) throw new TrustMarkError('an element of trust_marks is not {trust_mark_type, trust_mark}');
  const claims = peekTrustMark(e.data.trust_mark);
  if (claims.trust_mark_type !== e.data.trust_mark_type) throw new TrustMarkError(`published as ${e.data.trust_mark_type} but its JWT says ${claims.trust_mark_type}`);
  if (claims.sub !== ctx.subject) throw new TrustMarkError(`issued to ${claims.sub}, not to ${ctx.subject}`);
  const issuers = trustMarkIssuersSchema.safeParse(ctx.trustMarkIssuers ?? {});
  if (!issuers.success) throw new TrustMarkError("the trust anchor's trust_mark_issuers is malformed");
  const accepted = issuers.data[claims.trust_mark_type];
  if (!accepted) throw new TrustMarkError(`the trust anchor accepts no issuer of ${claims.trust_mark_type}`);
  if (accepted.length > 0 && !accepted.includes(claims.iss)) throw new TrustMarkError(`${claims.iss} is not an issuer the trust anchor accepts for ${claims.trust_mark_type}`);
  const owners = ctx.trustMarkOwners && typeof ctx.trustMarkOwners === 'object' ? (ctx.trustMarkOwners as Record<string, unknown>) : {};
  if (claims.trust_mark_type in owners) throw new TrustMarkError('a delegated trust mark (trust_mark_owners), which this instance does not accept');
  if (claims.iat > ctx.now / 1000 + IAT_LEEWAY_S) throw new TrustMarkError('issued in the future');
  let issuer: TrustMarkIssuer;
  try {
    issuer = await ctx.issuer(claims.iss);
  } catch (err) {
    throw new TrustMarkError(`its issuer ${claims.iss} is not trusted: ${(err as Error).message}`);
  }
  await verifyWith(e.data.trust_mark, issuer.jwks, TRUST_MARK_TYP, ctx.now);
  return {
    trust_mark_type: claims.trust_mark_type,
    iss: claims.iss,
    sub: claims.sub,
    iat: claims.iat,
    ...(claims.exp !== undefined ? { exp: claims.exp } : {}),
    ...(claims.logo_uri ? { logo_uri: claims.logo_uri } : {}),
    ...(claims.ref ? { ref: claims.ref } : {}),
    jwt: e.data.trust_mark,
    ...(issuer.statusEndpoint ? { statusEndpoint: issuer.statusEndpoint } : {}),
    issuerJwks: issuer.jwks,
  };
}

/** Every mark of `trust_marks`: the valid ones kept, the others dropped with the reason. */
export async function verifyTrustMarks(trustMarks: unknown, ctx: VerifyContext): Promise<TrustMarkReport> {
  const report: TrustMarkReport = { valid: [], dropped: [] };
  if (trustMarks === undefined) return report;
  if (!Array.isArray(trustMarks)) return { valid: [], dropped: [{ trust_mark_type: '(unknown)', reason: 'trust_marks is not an array' }] };
  for (const entry of trustMarks) {
    try {
      report.valid.push(await verifyTrustMark(entry, ctx));
    } catch (err) {
      if (!(err instanceof TrustMarkError)) throw err;
      report.dropped.push({ ...describe(entry), reason: err.message });
    }
  }
  return report;
}

/** Type and issuer of a mark as far as they can be read, to name what was dropped. */
function describe(entry: unknown): { trust_mark_type: string; iss?: string } {
  const e = entry as { trust_mark_type?: unknown; trust_mark?: unknown } | null;
  const type = typeof e?.trust_mark_type === 'string' ? e.trust_mark_type : '(unknown)';
  try {
    const iss = decodeJwt(String(e?.trust_mark)).iss;
    return typeof iss === 'string' ? { trust_mark_type: type, iss } : { trust_mark_type: type };
  } catch {
    return { trust_mark_type: type };
  }
}

/** Marks of a report still valid at `now` (a cached report's marks expire on their own clock). */
export function unexpired(report: TrustMarkReport, now: number): TrustMarkReport {
  const valid: VerifiedTrustMark[] = [];
  const dropped = [...report.dropped];
  for (const m of report.valid) {
    if (m.exp !== undefined && m.exp * 1000 <= now) dropped.push({ trust_mark_type: m.trust_mark_type, iss: m.iss, reason: 'expired' });
    else valid.push(m);
  }
  return { valid, dropped };
}

// §8.4: the status response, a JWT of type trust-mark-status-response+jwt signed by the issuer.
export const statusResponseSchema = z.looseObject({ iss: url, iat: z.number().int(), trust_mark: z.string(), status: z.string().min(1) });

export async function signStatusResponse(iss: string, trustMark: string, status: TrustMarkStatus, privateJwk: JWK, now = Date.now()): Promise<string> {
  return signTyped({ iss, iat: Math.floor(now / 1000), trust_mark: trustMark, status }, privateJwk, TRUST_MARK_STATUS_TYP);
}

/** Checks a status response: signed by the mark's issuer, about this very mark. Returns the status. */
export async function verifyStatusResponse(jwt: string, mark: Pick<VerifiedTrustMark, 'iss' | 'jwt' | 'issuerJwks'>, now = Date.now()): Promise<string> {
  const { payload } = decodeTyped(jwt, TRUST_MARK_STATUS_TYP, (wrong) =>
    new TrustMarkError(wrong === 'typ' ? `the status response's typ is not ${TRUST_MARK_STATUS_TYP}` : 'the status response is not a JWT'),
  );
  const parsed = statusResponseSchema.safeParse(payload);
  if (!parsed.success) throw new TrustMarkError('malformed status response');
  if (parsed.data.iss !== mark.iss) throw new TrustMarkError(`the status response comes from ${parsed.data.iss}, not the issuer`);
  if (parsed.data.trust_mark !== mark.jwt) throw new TrustMarkError('the status response is about another trust mark');
  try {
    await verifyWith(jwt, mark.issuerJwks, TRUST_MARK_STATUS_TYP, now);
  } catch (err) {
    throw new TrustMarkError(`status response: ${(err as Error).message}`);
  }
  return parsed.data.status;
}
