// What the provider says about an account: standard claims and, under the
// `meetplane` scope, the home co-op, tenancy memberships and roles: every
// active grant (with who delegated it, as RFC 8693 `act`) and the roles its
// tenancy memberships give. Access tokens cannot be revoked, so the API
// re-reads grants on every request instead of trusting this claim.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { accountCredentials } from '../accounts/sso-table.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { activeGrants } from '../grants/service.js';
import { roleClaims, type GrantRoleClaim } from '../grants/claims.js';

export type RoleClaim =
  | GrantRoleClaim
  | { role: string; scope: { type: 'tenancy'; id: string; slug: string }; via: 'membership' };

export interface AccountClaims {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  coop: { id: string; slug: string } | null;
  tenancies: Array<{ id: string; slug: string; role: string }>;
  roles: RoleClaim[];
}

export async function accountClaims(db: Db, accountId: string): Promise<AccountClaims | undefined> {
  const [row] = await db
    .select({
      id: accounts.id,
      email: accounts.email,
      name: accounts.name,
      coopId: coops.id,
      coopSlug: coops.slug,
      verifiedAt: accountCredentials.emailVerifiedAt,
    })
    .from(accounts)
    .leftJoin(coops, eq(coops.id, accounts.coopId))
    .leftJoin(accountCredentials, eq(accountCredentials.accountId, accounts.id))
    .where(eq(accounts.id, accountId))
    .limit(1);
  if (!row) return undefined;
  const member = await db
    .select({ id: tenancies.id, slug: tenancies.slug, role: memberships.role })
    .from(memberships)
    .innerJoin(tenancies, eq(tenancies.id, memberships.tenancyId))
    .where(eq(memberships.accountId, accountId))
    .orderBy(tenancies.slug);
  const roles: RoleClaim[] = [
    ...roleClaims(await activeGrants(db, accountId)),
    ...member.map((t) => ({
      role: t.role === 'owner' ? 'tenancy_owner' : t.role === 'admin' ? 'tenancy_admin' : 'member',
      scope: { type: 'tenancy' as const, id: t.id, slug: t.slug },
      via: 'membership' as const,
    })),
  ];
  return {
    sub: row.id,
    email: row.email,
    email_verified: !!row.verifiedAt,
    name: row.name,
    coop: row.coopId && row.coopSlug ? { id: row.coopId, slug: row.coopSlug } : null,
    tenancies: member,
    roles,
  };
}
