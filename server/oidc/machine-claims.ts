// What a machine client's access token (client credentials) says about it, as
// a person's ID token says it about them: `roles` as RFC 9068 strings, made by
// the same flatRoles ("<role>:<slug of where>", the bare role for platform-wide ones) and,
// under `meetplane`, its co-op, the tenancy it was created for and every active
// grant in the structured form (with `act` for who delegated it). A snapshot:
// the API re-reads the grants on every request, so a revoked grant or a deleted
// client stops counting at once whatever the token says.
import type { Db } from '../db/index.js';
import { activeGrants } from '../grants/service.js';
import { roleClaims, type GrantRoleClaim } from '../grants/claims.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findClient } from './clients.js';
import { flatRoles } from './claims.js';

export interface MachineTokenClaims {
  roles: string[];
  meetplane: {
    coop: { id: string; slug: string } | null;
    tenancy: { id: string; slug: string } | null;
    roles: GrantRoleClaim[];
  };
}

/** Claims for the client's next token, or undefined for a client that is not a machine client. */
export async function machineTokenClaims(db: Db, clientId: string): Promise<MachineTokenClaims | undefined> {
  const client = await findClient(db, clientId);
  if (!client || client.kind !== 'machine') return undefined;
  const [coop, tenancy, active] = await Promise.all([
    findCoop(db, client.coopId),
    client.tenancyId ? findTenancy(db, client.tenancyId) : undefined,
    activeGrants(db, client.id),
  ]);
  const structured = roleClaims(active);
  return {
    roles: await flatRoles(db, structured),
    meetplane: {
      coop: coop ? { id: coop.id, slug: coop.slug } : null,
      tenancy: tenancy ? { id: tenancy.id, slug: tenancy.slug } : null,
      roles: structured,
    },
  };
}
