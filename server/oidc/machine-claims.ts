// What a machine client's access token (client credentials) says about it, as
// a person's ID token says it about them: `roles` as RFC 9068 strings, made by
// the same flatRoles ("<role>:<slug of where>", the bare role for platform-wide ones) and,
// under `meetplane`, its co-op, the tenancy it was created for and every active
// grant in the structured form (with `act` for who delegated it). A snapshot:
// the API reads the grants afresh (through caches retired by every change), so a revoked
// grant or a deleted client stops counting at once whatever the token says.
import type { Db } from '../db/index.js';
import { activeGrants } from '../grants/service.js';
import { roleClaims, type GrantRoleClaim } from '../grants/claims.js';
import { eq, sql } from 'drizzle-orm';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { oidcClients } from './table.js';
import { flatRoles } from './claims.js';
import { dbCache } from '../cache/db-caches.js';

export interface MachineTokenClaims {
  roles: string[];
  meetplane: {
    coop: { id: string; slug: string };
    tenancy: { id: string; slug: string } | null;
    roles: GrantRoleClaim[];
  };
}

// One prepared query for the client with its co-op and tenancy: it runs for every token issued.
const prepared = new WeakMap<Db, ReturnType<typeof prepare>>();
const prepare = (db: Db) =>
  db
    .select({ id: oidcClients.id, kind: oidcClients.kind, coopId: coops.id, coopSlug: coops.slug, tenancyId: tenancies.id, tenancySlug: tenancies.slug })
    .from(oidcClients)
    .innerJoin(coops, eq(coops.id, oidcClients.coopId))
    .leftJoin(tenancies, eq(tenancies.id, oidcClients.tenancyId))
    .where(eq(oidcClients.clientId, sql.placeholder('clientId')))
    .limit(1)
    .prepare('oidc_machine_token_client');
function clientQuery(db: Db) {
  let q = prepared.get(db);
  if (!q) prepared.set(db, (q = prepare(db)));
  return q;
}

/** The claims, and when the first of the grants they name runs out (epoch ms). */
interface Kept {
  claims: MachineTokenClaims;
  firstExpiry: number | null;
}

/**
 * Claims for the client's next token, or undefined for a client that is not a machine client.
 * Asked for every token issued, so kept until what they are read from changes anywhere (the
 * client, its grants, the slugs of the scopes they name; a co-op's slug never changes) or the
 * first of its grants runs out; the change notice retires them on every process.
 */
export async function machineTokenClaims(db: Db, clientId: string): Promise<MachineTokenClaims | undefined> {
  const kept = await dbCache<string, Kept>(db, 'machine-token-claims', {
    tables: ['oidc_clients', 'grants', 'clusters', 'tenancies'],
    expiresAt: (k) => k.firstExpiry,
  }).get(clientId, () => readClaims(db, clientId));
  return kept?.claims;
}

async function readClaims(db: Db, clientId: string): Promise<Kept | undefined> {
  const [client] = await clientQuery(db).execute({ clientId });
  if (!client || client.kind !== 'machine') return undefined;
  const active = await activeGrants(db, client.id);
  const structured = roleClaims(active);
  const expiries = active.flatMap((g) => (g.expiresAt ? [g.expiresAt.getTime()] : []));
  return {
    claims: {
      roles: await flatRoles(db, structured),
      meetplane: {
        coop: { id: client.coopId, slug: client.coopSlug },
        tenancy: client.tenancyId && client.tenancySlug ? { id: client.tenancyId, slug: client.tenancySlug } : null,
        roles: structured,
      },
    },
    firstExpiry: expiries.length ? Math.min(...expiries) : null,
  };
}
