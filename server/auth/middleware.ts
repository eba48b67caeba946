// Authenticates every /api/v1 request from its bearer token: a personal access
// token (mp_pat_...) or an OIDC access token (an RFC 9068 JWT issued by our
// provider for the API resource). Anything else answers 401 problem+json.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';
import type { Db } from '../db/index.js';
import type { Principal } from './principal.js';
import { problems } from '../http/problem.js';
import { principalForPat } from '../accounts/tokens.js';

/** Turns a JWT access token into a principal, or null when it is not valid for the API. */
export interface JwtPrincipals {
  principal(token: string): Promise<Principal | null>;
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function bearerAuth(db: Db, jwt?: () => JwtPrincipals | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) throw problems.unauthorized();
    const token = match[1]!;
    const verifier = jwt?.();
    const principal = verifier && JWT_RE.test(token) ? await verifier.principal(token) : await principalForPat(db, token);
    if (!principal) throw problems.unauthorized('The token is unknown, expired, revoked, of a suspended account or not meant for this API');
    c.set('principal', principal);
    await next();
  };
}
