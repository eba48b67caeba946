// Authenticates every /api/v1 request from its bearer token. Personal access
// tokens for now; the SSO issue adds OIDC JWTs beside them.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';
import type { Db } from '../db/index.js';
import { problems } from '../http/problem.js';
import { principalForPat } from '../accounts/tokens.js';

export function bearerAuth(db: Db): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) throw problems.unauthorized();
    const principal = await principalForPat(db, match[1]!);
    if (!principal) throw problems.unauthorized('The token is unknown, expired or revoked');
    c.set('principal', principal);
    await next();
  };
}
