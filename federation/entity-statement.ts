// Entity statements (OpenID Federation 1.0 §3): signed JWTs of type entity-statement+jwt.
// An entity configuration is the statement an entity makes about itself (iss = sub), a
// subordinate statement is one a superior makes about an entity below it. Signing and
// verifying both, with every claim checked by zod.
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const ENTITY_STATEMENT_TYP = 'entity-statement+jwt';
export const ENTITY_STATEMENT_CONTENT_TYPE = 'application/entity-statement+jwt';
export const WELL_KNOWN_PATH = '/.well-known/openid-federation';
/** The algorithms accepted on statements (a federation key is ES256 or Ed25519). */
export const STATEMENT_ALGS = ['ES256', 'EdDSA', 'Ed25519'];

const jwkSchema = z.looseObject({ kty: z.string(), kid: z.string().optional() });
export type Jwks = { keys: JWK[] };
export const jwksSchema = z.object({ keys: z.array(jwkSchema).min(1) }).transform((v) => v as Jwks);

const entityId = z
  .string()
  .url()
  .refine((s) => !new URL(s).search && !new URL(s).hash, 'an entity identifier has no query or fragment');

const namingConstraints = z.object({ permitted: z.array(z.string()).optional(), excluded: z.array(z.string()).optional() });
export const constraintsSchema = z.looseObject({
  max_path_length: z.number().int().min(0).optional(),
  naming_constraints: namingConstraints.optional(),
  allowed_entity_types: z.array(z.string()).optional(),
});
export type Constraints = z.infer<typeof constraintsSchema>;

const jsonObject = z.record(z.string(), z.unknown());

export const entityStatementSchema = z.looseObject({
  iss: entityId,
  sub: entityId,
  iat: z.number().int(),
  exp: z.number().int(),
  jwks: jwksSchema,
  authority_hints: z.array(entityId).optional(),
  metadata: z.record(z.string(), jsonObject).optional(),
  metadata_policy: z.record(z.string(), z.record(z.string(), jsonObject)).optional(),
  constraints: constraintsSchema.optional(),
  crit: z.array(z.string()).optional(),
  metadata_policy_crit: z.array(z.string()).optional(),
  source_endpoint: z.string().url().optional(),
});
export type EntityStatement = z.infer<typeof entityStatementSchema>;

/** Claims a caller supplies; iat and exp are set from `lifetimeSeconds`. */
export type StatementClaims = Omit<EntityStatement, 'iat' | 'exp'>;

export class StatementError extends Error {
  override name = 'StatementError';
}

// Importing a JWK costs three times the signature: keep imported signing keys, named by a hash
// of their private part (kids are not unique across entities).
type SigningKey = Awaited<ReturnType<typeof importJWK>>;
const imported = new Map<string, SigningKey>();
async function signingKey(jwk: JWK, alg: string): Promise<SigningKey> {
  const name = `${alg}:${createHash('sha256').update(jwk.d ?? '').digest('base64url')}`;
  let key = imported.get(name);
  if (!key) {
    if (imported.size > 64) imported.clear();
    imported.set(name, (key = await importJWK(jwk, alg)));
  }
  return key;
}

/** Signs a statement with `privateJwk` (its kid goes in the header so verifiers pick the key). */
export async function signStatement(claims: StatementClaims, privateJwk: JWK, lifetimeSeconds: number, now = Date.now()): Promise<string> {
  const alg = privateJwk.alg ?? (privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256');
  if (!privateJwk.kid) throw new StatementError('a federation key needs a kid');
  const iat = Math.floor(now / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: ENTITY_STATEMENT_TYP, kid: privateJwk.kid })
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(await signingKey(privateJwk, alg));
}

/** Signs other federation JWTs (trust marks, status responses) with a federation key: `typ` and kid in the header, the claims as given. */
export async function signTyped(claims: Record<string, unknown>, privateJwk: JWK, typ: string): Promise<string> {
  const alg = privateJwk.alg ?? (privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256');
  if (!privateJwk.kid) throw new StatementError('a federation key needs a kid');
  return new SignJWT({ ...claims }).setProtectedHeader({ alg, typ, kid: privateJwk.kid }).sign(await signingKey(privateJwk, alg));
}

/**
 * The header and claims of a JWT that must be of type `typ`, without checking its signature (to learn
 * which keys should check it); `refuse` makes the caller's own error, in its words, for what is wrong.
 */
export function decodeTyped(jwt: string, typ: string, refuse: (wrong: 'not a JWT' | 'typ') => Error): { header: ProtectedHeaderParameters; payload: JWTPayload } {
  let header;
  let payload;
  try {
    header = decodeProtectedHeader(jwt);
    payload = decodeJwt(jwt);
  } catch {
    throw refuse('not a JWT');
  }
  if (header.typ !== typ) throw refuse('typ');
  return { header, payload };
}

/** The claims of a statement without checking its signature (to learn which keys should check it). */
export function peekStatement(jwt: string): EntityStatement {
  const { payload } = decodeTyped(jwt, ENTITY_STATEMENT_TYP, (wrong) => new StatementError(wrong === 'typ' ? `typ must be ${ENTITY_STATEMENT_TYP}` : wrong));
  const parsed = entityStatementSchema.safeParse(payload);
  if (!parsed.success) throw new StatementError(`malformed entity statement: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * Verifies `jwt` with a key from `jwks` (the one its header's kid names; a statement without a
 * kid, or naming a key not in `jwks`, is refused) and checks typ, exp and the claims.
 */
export async function verifyStatement(jwt: string, jwks: Jwks, now = Date.now()): Promise<EntityStatement> {
  const claims = peekStatement(jwt);
  const { kid, alg } = decodeProtectedHeader(jwt);
  if (!kid) throw new StatementError('statement has no kid');
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new StatementError(`statement of ${claims.iss} about ${claims.sub} is signed by key ${kid}, which its verifier does not hold`);
  try {
    await jwtVerify(jwt, await importJWK(jwk, alg), {
      typ: ENTITY_STATEMENT_TYP,
      algorithms: STATEMENT_ALGS,
      currentDate: new Date(now),
      clockTolerance: 0,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') throw new StatementError(`statement of ${claims.iss} about ${claims.sub} has expired`);
    throw new StatementError(`statement of ${claims.iss} about ${claims.sub}: signature or claims invalid (${code ?? 'error'})`);
  }
  return claims;
}

/** RFC 7638 thumbprints of a key set (pinned peers name their key by thumbprint). */
export async function thumbprints(jwks: Jwks): Promise<string[]> {
  return Promise.all(jwks.keys.map((k) => calculateJwkThumbprint(k)));
}

/** Public part of a JWK set (private members removed), for jwks claims. */
export function publicJwks(keys: JWK[]): Jwks {
  return {
    keys: keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...pub }) => pub),
  };
}
