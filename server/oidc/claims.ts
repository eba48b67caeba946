// What the provider says about an account: standard claims and, under the
// `meetplane` scope, the home co-op, tenancy memberships and roles. The roles
// issue will add delegated grants; for now platform_admin and membership roles.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { accountCredentials } from '../accounts/sso-table.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';

export interface RoleClaim {
  role: string;
  scope: { type: 'global' } | { type: 'coop' | 'tenancy'; id: string; slug: string };
}

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
      platformAdmin: accounts.platformAdmin,
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
  const roles: RoleClaim[] = [];
  if (row.platformAdmin) roles.push({ role: 'platform_admin', scope: { type: 'global' } });
  for (const t of member) roles.push({ role: t.role, scope: { type: 'tenancy', id: t.id, slug: t.slug } });
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
