// What the provider says about an account: standard claims and, under the
// `meetplane` scope, the home co-op, tenancy memberships and roles: every
// active grant (with who delegated it, as RFC 8693 `act`) and the roles its
// tenancy memberships give. Access tokens cannot be revoked, so the API
// re-reads grants on every request instead of trusting this claim.
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { accounts, memberships } from '../accounts/table.js';
import { accountCredentials } from '../accounts/sso-table.js';
import { coops } from '../coops/table.js';
import { tenancies } from '../tenancies/table.js';
import { clusters } from '../clusters/table.js';
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

/**
 * The claims relying parties get (ID tokens and userinfo). Front ends such as
 * mod_auth_openidc and Keycloak's mappers keep only string array items, so
 * `roles` and `groups` are flat strings; the structured form stays under
 * `meetplane` for software that reads it.
 */
export interface SignOnClaims {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  given_name?: string;
  family_name?: string;
  preferred_username: string;
  coop: { id: string; slug: string } | null;
  /** "<role>:<slug of where it applies>", or the bare role for platform-wide ones ("platform_admin"). */
  roles: string[];
  /** "coop:<slug>" for the home co-op, "tenancy:<slug>" for each tenancy the person belongs to. */
  groups: string[];
  meetplane: { coop: AccountClaims['coop']; tenancies: AccountClaims['tenancies']; roles: RoleClaim[] };
}

/**
 * given_name and family_name from the one name meetplane keeps: the last word
 * is the family name, the rest the given name; a one-word name is a given name
 * only. RPs that need exact parts should read `name`.
 */
export function nameParts(name: string): { given_name?: string; family_name?: string } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return {};
  if (words.length === 1) return { given_name: words[0]! };
  return { given_name: words.slice(0, -1).join(' '), family_name: words.at(-1)! };
}

/** Slugs of the co-ops, clusters and tenancies the grants name, by id. */
async function slugsOf(db: Db, roles: RoleClaim[]): Promise<Map<string, string>> {
  const ids = { coop: new Set<string>(), cluster: new Set<string>(), tenancy: new Set<string>() };
  for (const r of roles) if (r.scope.type !== 'global' && !('slug' in r.scope)) ids[r.scope.type].add(r.scope.id);
  const out = new Map<string, string>();
  const add = (rows: Array<{ id: string; slug: string }>) => rows.forEach((r) => out.set(r.id, r.slug));
  if (ids.coop.size) add(await db.select({ id: coops.id, slug: coops.slug }).from(coops).where(inArray(coops.id, [...ids.coop])));
  if (ids.cluster.size) add(await db.select({ id: clusters.id, slug: clusters.slug }).from(clusters).where(inArray(clusters.id, [...ids.cluster])));
  if (ids.tenancy.size) add(await db.select({ id: tenancies.id, slug: tenancies.slug }).from(tenancies).where(inArray(tenancies.id, [...ids.tenancy])));
  return out;
}

/**
 * The roles as flat strings: "<role>:<slug of where it applies>", or the bare
 * role for platform-wide ones. People's ID tokens and machine clients' access
 * tokens (./machine-claims.ts) say them alike.
 */
export async function flatRoles(db: Db, roles: RoleClaim[]): Promise<string[]> {
  const slugs = await slugsOf(db, roles);
  const flat = roles.map((r) => {
    if (r.scope.type === 'global') return r.role;
    const slug = 'slug' in r.scope ? r.scope.slug : (slugs.get(r.scope.id) ?? r.scope.id);
    return `${r.role}:${slug}`;
  });
  return [...new Set(flat)];
}

export async function signOnClaims(db: Db, accountId: string): Promise<SignOnClaims | undefined> {
  const c = await accountClaims(db, accountId);
  if (!c) return undefined;
  const roles = await flatRoles(db, c.roles);
  const groups = [...(c.coop ? [`coop:${c.coop.slug}`] : []), ...c.tenancies.map((t) => `tenancy:${t.slug}`)];
  return {
    sub: c.sub,
    email: c.email,
    email_verified: c.email_verified,
    name: c.name,
    ...nameParts(c.name),
    // The e-mail's local part: a readable user name (OIDC: not unique, RPs must key on sub).
    preferred_username: c.email.includes('@') ? c.email.slice(0, c.email.lastIndexOf('@')) : c.sub,
    coop: c.coop,
    roles,
    groups,
    meetplane: { coop: c.coop, tenancies: c.tenancies, roles: c.roles },
  };
}
