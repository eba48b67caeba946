// The grants service on its own: what counts as active, the claims tokens
// carry, and delegation racing revocation (nothing delegated survives).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { bootstrapAdmin, createAccount } from '../../server/accounts/service.js';
import { createCoop } from '../../server/coops/service.js';
import { LOCAL_OPERATOR, type Principal } from '../../server/auth/principal.js';
import { activeGrants, delegate, findGrant, revokeGrant, type Grant } from '../../server/grants/service.js';
import { roleClaims } from '../../server/grants/claims.js';
import { rowsOf } from '../../server/db/index.js';

let database: TestDatabase;
let admin: Principal, alice: Principal;
let root: Grant;
let coopId: string;
const allow = async () => ({ decision: 'allow' as const, policyIds: ['test'], policySetHash: 'test' });
const days = (n: number) => new Date(Date.now() + n * 86_400_000);
const as = (accountId: string, coop: string | null = null): Principal => ({ accountId, coopId: coop, platformAdmin: false, via: 'pat', tokenId: null });

beforeAll(async () => {
  database = await freshDatabase();
  const { account } = await bootstrapAdmin(database.db, LOCAL_OPERATOR, { email: 'root@x.test', name: 'Root' });
  admin = as(account.id);
  root = (await activeGrants(database.db, account.id))[0]!;
  coopId = (await createCoop(database.db, LOCAL_OPERATOR, { slug: 'svc-coop', name: 'C', jurisdiction: 'DE', contactEmail: 'c@x.test', legalRegime: 'eu_gdpr' })).id;
  alice = as((await createAccount(database.db, LOCAL_OPERATOR, { email: 'alice@x.test', name: 'A', coopId })).id, coopId);
});

afterAll(async () => {
  await database?.close();
});

describe('grants service', () => {
  it('bootstraps one active global platform_admin grant', () => {
    expect(root).toMatchObject({ role: 'platform_admin', scope: { type: 'global' }, grantedBy: null, delegable: true, expiresAt: null, status: 'active', chain: [] });
  });

  it('puts the delegation chain into the roles claim, nearest delegator outermost', async () => {
    const a = await delegate(database.db, admin, { fromGrantId: root.id, to: { kind: 'account', id: alice.accountId }, role: 'coop_admin', scope: { type: 'coop', id: coopId }, delegable: true, expiresAt: days(7), reason: 'r' }, { maxDepth: 3, authorize: allow });
    const bob = (await createAccount(database.db, LOCAL_OPERATOR, { email: 'bob@x.test', name: 'B', coopId })).id;
    const b = await delegate(database.db, alice, { fromGrantId: a.id, to: { kind: 'account', id: bob }, role: 'tenancy_admin', scope: { type: 'coop', id: coopId }, delegable: false, expiresAt: days(1), reason: 'r' }, { maxDepth: 3, authorize: allow }).catch((e) => e);
    expect(b.extensions?.rule).toBe('delegation.invalid-scope');
    const c = await delegate(database.db, alice, { fromGrantId: a.id, to: { kind: 'account', id: bob }, role: 'cluster_operator', scope: { type: 'coop', id: coopId }, delegable: false, expiresAt: days(1), reason: 'r' }, { maxDepth: 3, authorize: allow });
    const [claim] = roleClaims(await activeGrants(database.db, bob));
    expect(claim).toEqual({
      role: 'cluster_operator',
      scope: { type: 'coop', id: coopId },
      grant: c.id,
      exp: Math.floor(c.expiresAt!.getTime() / 1000),
      act: { sub: alice.accountId, grant: a.id, act: { sub: admin.accountId, grant: root.id } },
    });
    expect(roleClaims([root])).toEqual([{ role: 'platform_admin', scope: { type: 'global' }, grant: root.id }]);
  });

  it('counts a grant active only while its whole chain is', async () => {
    const carol = (await createAccount(database.db, LOCAL_OPERATOR, { email: 'carol@x.test', name: 'C', coopId })).id;
    const g = await delegate(database.db, alice, { fromGrantId: (await activeGrants(database.db, alice.accountId))[0]!.id, to: { kind: 'account', id: carol }, role: 'coop_admin', scope: { type: 'coop', id: coopId }, delegable: false, expiresAt: days(1), reason: 'r' }, { maxDepth: 3, authorize: allow });
    expect((await activeGrants(database.db, carol)).map((x) => x.id)).toEqual([g.id]);
    // Break the chain above without the cascade (as a stale row would be): carol's grant must stop counting.
    await database.db.execute(sql`update grants set revoked_at = now() where id = ${g.chain[0]}`);
    expect(await activeGrants(database.db, carol)).toEqual([]);
    expect((await findGrant(database.db, g.id))!.status).toBe('inactive');
    await database.db.execute(sql`update grants set revoked_at = null where id = ${g.chain[0]}`);
    expect((await activeGrants(database.db, carol)).map((x) => x.id)).toEqual([g.id]);
  });

  it('never leaves a delegation alive under a revoked grant, even when they race', async () => {
    const accounts = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => createAccount(database.db, LOCAL_OPERATOR, { email: `race${i}@x.test`, name: 'R', coopId })));
    for (let round = 0; round < 6; round++) {
      const holder = accounts[round]!.id;
      const g = await delegate(database.db, admin, { fromGrantId: root.id, to: { kind: 'account', id: holder }, role: 'coop_admin', scope: { type: 'coop', id: coopId }, delegable: true, expiresAt: days(2), reason: 'r' }, { maxDepth: 3, authorize: allow });
      const to = accounts[(round + 1) % accounts.length]!.id;
      const results = await Promise.allSettled([
        ...[0, 1, 2].map(() => delegate(database.db, as(holder, coopId), { fromGrantId: g.id, to: { kind: 'account', id: to }, role: 'cluster_operator', scope: { type: 'coop', id: coopId }, delegable: false, expiresAt: days(1), reason: 'r' }, { maxDepth: 3, authorize: allow })),
        revokeGrant(database.db, admin, g, 'race', { decision: 'allow', policyIds: [], policySetHash: 'x' }),
      ]);
      expect(results[3]!.status).toBe('fulfilled');
      const alive = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from grants where granted_by = ${g.id} and revoked_at is null`));
      expect(Number(alive[0]!.n)).toBe(0);
    }
  });

  it('refuses a delegation whose grantor is revoked after the rules passed it, before it is stored (the window a race needs, made certain)', async () => {
    const holder = (await createAccount(database.db, LOCAL_OPERATOR, { email: 'window@x.test', name: 'W', coopId })).id;
    const to = (await createAccount(database.db, LOCAL_OPERATOR, { email: 'window-to@x.test', name: 'T', coopId })).id;
    const g = await delegate(database.db, admin, { fromGrantId: root.id, to: { kind: 'account', id: holder }, role: 'coop_admin', scope: { type: 'coop', id: coopId }, delegable: true, expiresAt: days(2), reason: 'r' }, { maxDepth: 3, authorize: allow });
    // The policies are asked after the rules read the grantor as active: revoke it right then.
    const revokeMeanwhile = async () => {
      await revokeGrant(database.db, admin, (await findGrant(database.db, g.id))!, 'left', { decision: 'allow', policyIds: [], policySetHash: 'x' });
      return allow();
    };
    const input = { fromGrantId: g.id, to: { kind: 'account' as const, id: to }, role: 'cluster_operator' as const, scope: { type: 'coop' as const, id: coopId }, delegable: false, expiresAt: days(1), reason: 'r' };
    await expect(delegate(database.db, as(holder, coopId), input, { maxDepth: 3, authorize: revokeMeanwhile })).rejects.toMatchObject({ status: 403, refusal: { rule: 'delegation.grantor-inactive' } });
    expect(await activeGrants(database.db, to)).toEqual([]);
    const stored = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from grants where granted_by = ${g.id}`));
    expect(Number(stored[0]!.n)).toBe(0);
  });
});
