// DPoP proofs (RFC 9449) between meetplane instances: the sender proves, request by request, that it
// holds the private key a capability is bound to (the capability's `cnf.jkt`). Pure: create and
// check a proof; remembering used `jti`s is the caller's (it has the database).
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { z } from 'zod';

export const DPOP_TYP = 'dpop+jwt';
const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519'];
/** How far a proof's iat may be from the verifier's clock (RFC 9449 §11.1 leaves it to the server). */
export const DPOP_MAX_SKEW_S = 60;

export class DpopError extends Error {
  override name = 'DpopError';
}

/** The `ath` of an access token: base64url SHA-256 of its ASCII text (RFC 9449 §4.2). */
export const accessTokenHash = (token: string) => createHash('sha256').update(token, 'ascii').digest('base64url');

/** The URI a proof names: scheme, host and path, without query and fragment (RFC 9449 §4.3 step 9). */
export function htuOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

const publicOnly = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...pub }: JWK): JWK => pub;

/** A proof for one request (`htm` method, `htu` URL), signed with `privateJwk`; `accessToken` adds its `ath`. */
export async function createDpopProof(privateJwk: JWK, opts: { htm: string; htu: string; accessToken?: string; now?: number }): Promise<string> {
  const alg = privateJwk.alg ?? (privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256');
  return new SignJWT({ jti: randomUUID(), htm: opts.htm, htu: htuOf(opts.htu), ...(opts.accessToken ? { ath: accessTokenHash(opts.accessToken) } : {}) })
    .setProtectedHeader({ typ: DPOP_TYP, alg, jwk: publicOnly(privateJwk) })
    .setIssuedAt(Math.floor((opts.now ?? Date.now()) / 1000))
    .sign(await importJWK(privateJwk, alg));
}

const claimsSchema = z.object({ jti: z.string().min(8).max(200), htm: z.string(), htu: z.string(), iat: z.number().int(), ath: z.string().optional() });

/**
 * Checks a proof for a request (`htm`, `htu`) and, when given, the access token it accompanies:
 * typ, an asymmetric alg, a public key in the header that signed it, method, URI, freshness and
 * `ath`. Returns the key's RFC 7638 thumbprint (what `cnf.jkt` must equal) and the proof's jti.
 */
export async function verifyDpopProof(proof: string, opts: { htm: string; htu: string; accessToken?: string; now?: number }): Promise<{ jkt: string; jti: string; iat: number }> {
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopError('the DPoP proof is not a JWT');
  }
  if (header.typ !== DPOP_TYP) throw new DpopError(`the DPoP proof's typ must be ${DPOP_TYP}`);
  if (!header.alg || !DPOP_ALGS.includes(header.alg)) throw new DpopError('the DPoP proof must be signed with ES256 or EdDSA');
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object') throw new DpopError('the DPoP proof carries no public key');
  if ('d' in jwk || 'k' in jwk) throw new DpopError('the DPoP proof carries a private key');
  let payload;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: DPOP_TYP, algorithms: DPOP_ALGS }));
  } catch (err) {
    throw new DpopError(`the DPoP proof's signature is not valid (${(err as { code?: string }).code ?? 'error'})`);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new DpopError('the DPoP proof lacks jti, htm, htu or iat');
  const c = claims.data;
  if (c.htm !== opts.htm) throw new DpopError(`the DPoP proof is for ${c.htm}, not ${opts.htm}`);
  if (c.htu !== htuOf(opts.htu)) throw new DpopError('the DPoP proof is for another URL');
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - c.iat) > DPOP_MAX_SKEW_S) throw new DpopError('the DPoP proof is not fresh');
  if (opts.accessToken !== undefined && c.ath !== accessTokenHash(opts.accessToken)) throw new DpopError('the DPoP proof is not for this access token');
  return { jkt: await calculateJwkThumbprint(jwk), jti: c.jti, iat: c.iat };
}
