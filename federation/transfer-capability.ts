// Capabilities to pull a transfer's package: short-lived JWTs the source issues and later checks
// itself, bound to one transfer, to the exact manifest (its SHA-256), and to the target's key
// (`cnf.jkt`, RFC 9449 §6): useless to anyone who cannot sign DPoP proofs with that key, and for
// any other transfer or manifest.
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { z } from 'zod';
import { signTyped, STATEMENT_ALGS, type Jwks } from './entity-statement.js';

export const CAPABILITY_TYP = 'transfer-capability+jwt';
/** Long enough for one file of a slow link to start; the puller asks for a fresh one before it ends. */
export const CAPABILITY_LIFETIME_S = 300;

export class CapabilityError extends Error {
  override name = 'CapabilityError';
}

const claimsSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string().uuid(),
  manifest_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  cnf: z.object({ jkt: z.string().min(20).max(100) }),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string(),
});
export type Capability = z.infer<typeof claimsSchema>;

export async function issueCapability(privateJwk: JWK, c: { issuer: string; transferId: string; manifestSha256: string; jkt: string; now?: number }): Promise<{ token: string; expiresIn: number }> {
  const iat = Math.floor((c.now ?? Date.now()) / 1000);
  const claims: Capability = { iss: c.issuer, aud: c.issuer, sub: c.transferId, manifest_sha256: c.manifestSha256, cnf: { jkt: c.jkt }, iat, exp: iat + CAPABILITY_LIFETIME_S, jti: randomUUID() };
  return { token: await signTyped(claims, privateJwk, CAPABILITY_TYP), expiresIn: CAPABILITY_LIFETIME_S };
}

/** Checks a capability this instance (`issuer`, with its own public `keys`) issued for `transferId`. */
export async function checkCapability(token: string, opts: { issuer: string; keys: Jwks; transferId: string; now?: number }): Promise<Capability> {
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(token));
  } catch {
    throw new CapabilityError('the capability is not a JWT');
  }
  const jwk = opts.keys.keys.find((k) => k.kid === kid);
  if (!jwk) throw new CapabilityError('the capability was not issued by this instance');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, await importJWK(jwk, alg), {
      typ: CAPABILITY_TYP,
      algorithms: STATEMENT_ALGS,
      issuer: opts.issuer,
      audience: opts.issuer,
      currentDate: new Date(opts.now ?? Date.now()),
    }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CapabilityError(code === 'ERR_JWT_EXPIRED' ? 'the capability has expired' : `the capability is not valid (${code ?? 'error'})`);
  }
  const c = claimsSchema.safeParse(payload);
  if (!c.success) throw new CapabilityError('the capability is malformed');
  if (c.data.sub !== opts.transferId) throw new CapabilityError('the capability is for another transfer');
  return c.data;
}
