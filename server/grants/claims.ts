// The `roles` claim of tokens and userinfo: one entry per active grant, with
// its scope and expiry, and for a delegated grant who delegated it, nested
// like RFC 8693's `act` (nearest delegator outermost). A token's claims are a
// snapshot: the API re-reads grants on every request that changes something.
import type { Scope } from '../../policies/roles.js';
import type { Grant } from './service.js';

export interface ActClaim {
  sub: string;
  grant: string;
  act?: ActClaim;
}

export interface GrantRoleClaim {
  role: string;
  scope: Scope;
  grant: string;
  /** Seconds since the epoch; absent for a grant without expiry. */
  exp?: number;
  act?: ActClaim;
}

export function roleClaims(active: readonly Grant[]): GrantRoleClaim[] {
  return active.map((g) => {
    let act: ActClaim | undefined;
    for (let i = g.chain.length - 1; i >= 0; i--) act = { sub: g.delegators[i]!, grant: g.chain[i]!, ...(act ? { act } : {}) };
    return {
      role: g.role,
      scope: g.scope,
      grant: g.id,
      ...(g.expiresAt ? { exp: Math.floor(g.expiresAt.getTime() / 1000) } : {}),
      ...(act ? { act } : {}),
    };
  });
}
